"""Fixtures shared by the tests that talk to a local cloud."""

from __future__ import annotations

from typing import Any

import botocore.config
import pytest

from wildrydes_helpers.session import local_boto3_session


@pytest.fixture
def raw_lambda(lab: Any) -> Any:
    """A Lambda client that does not check parameters itself, so the server must."""
    return local_boto3_session(lab.config).client("lambda", endpoint_url=lab.endpoint,
                          config=botocore.config.Config(parameter_validation=False,
                                                        retries={"max_attempts": 1}))
