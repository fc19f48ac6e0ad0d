"""The test run's settings are its own: tests/conftest.py sets the environment in full.

tests/local_cloud/test_isolation_from_the_shell.py runs this file in a fresh pytest session
whose shell exports other values, and expects it to pass there too.
"""

from __future__ import annotations

import os
from pathlib import Path

from wildrydes_helpers.config import load_config

# What a shell may export that must never reach a test (each would change a result).
SHELL_ONLY = ("WILDRYDES_PREFIX", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL",
              "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


def test_the_lab_settings_are_the_test_runs() -> None:
    cfg = load_config()
    assert cfg.window_seconds == 2
    assert cfg.prefix == ""
    assert cfg.backend == "local"
    assert cfg.region == "us-east-1"
    assert cfg.home == Path(os.environ["WILDRYDES_HOME"])
    assert cfg.home.name.startswith("wildrydes-test-")
    assert cfg.local_port == int(os.environ["WILDRYDES_LOCAL_PORT"])


def test_no_setting_of_the_shell_is_left() -> None:
    assert [var for var in SHELL_ONLY if var in os.environ] == []
    assert os.environ["AWS_DEFAULT_REGION"] == os.environ["AWS_REGION"] == "us-east-1"
    home = os.environ["WILDRYDES_HOME"]
    assert os.environ["AWS_CONFIG_FILE"] == str(Path(home) / "aws-config")
    assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == str(Path(home) / "aws-credentials")
