"""A prefix is checked before any cloud is asked (the setup steps themselves are in
tests/local_cloud/test_helpers_setup.py)."""

from __future__ import annotations

import pytest

from wildrydes_helpers.config import load_config
from wildrydes_helpers.errors import ConfigError


def test_a_prefix_with_bad_characters_is_a_config_error():
    with pytest.raises(ConfigError, match="WILDRYDES_PREFIX"):
        load_config({"WILDRYDES_PREFIX": "class 7/b"})
