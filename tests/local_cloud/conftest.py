"""Fixtures shared by the tests that talk to a local cloud."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.config
import pytest

from wildrydes_helpers.config import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY


@pytest.fixture
def raw_lambda(lab: Any) -> Any:
    """A Lambda client that does not check parameters itself, so the server must."""
    session = boto3.Session(aws_access_key_id=LOCAL_ACCESS_KEY_ID,
                            aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY,
                            region_name=lab.config.region)
    return session.client("lambda", endpoint_url=lab.endpoint,
                          config=botocore.config.Config(parameter_validation=False,
                                                        retries={"max_attempts": 1}))
