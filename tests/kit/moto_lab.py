"""A lab session on in-process moto, for unit tests of the aws code path (no local cloud)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from wildrydes_helpers.config import Config
from wildrydes_helpers.session import LabSession

MOTO_ACCOUNT = "123456789012"  # moto's default account


@contextlib.contextmanager
def moto_lab(monkeypatch: pytest.MonkeyPatch, home: Path, *,
             managed_policies: bool = False) -> Iterator[LabSession]:
    """An aws-mode LabSession against in-process moto, with dummy keys and ``home``.

    ``managed_policies`` loads AWS's managed policies into moto (the role step attaches one).
    """
    if managed_policies:
        monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        boto = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                             region_name="us-east-1")
        cfg = Config(backend="aws", window_seconds=60, region="us-east-1", home=home)
        yield LabSession(config=cfg, boto=boto, account_id=MOTO_ACCOUNT)
