"""Sessions without a local cloud: the masked account, aws mode on in-process moto or no account.

The local mode's sessions are in tests/local_cloud/test_session.py.
"""

from __future__ import annotations

import pytest

from wildrydes_helpers.errors import CredentialsError
from wildrydes_helpers.session import get_session, mask_account


@pytest.fixture
def empty_aws_files(tmp_path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    for var, name in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "creds")):
        path = tmp_path / name
        path.write_text("")
        monkeypatch.setenv(var, str(path))
    # No instance metadata lookup: this machine is not an EC2 instance.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def test_mask_account_keeps_only_last_four():
    assert mask_account("1111" + "22223333") == "********3333"
    assert "1111" not in mask_account("1111" + "22223333")


def test_aws_mode_with_in_process_moto_masks_the_account(
        fresh_sessions, empty_aws_files, monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("WILDRYDES_BACKEND", "aws")
    with mock_aws():
        lab = get_session()
        text = lab.describe()
    assert not lab.is_local and lab.endpoint is None
    assert "backend: aws" in text and "us-east-1" in text
    assert "********9012" in text
    assert "123456789012" not in text


def test_aws_mode_without_credentials_says_how_to_set_them_up(
        fresh_sessions, empty_aws_files, monkeypatch):
    monkeypatch.setenv("WILDRYDES_BACKEND", "aws")
    with pytest.raises(CredentialsError) as info:
        get_session()
    message = str(info.value)
    assert "\n" not in message
    assert "aws configure" in message and "AWS_REGION" in message
    assert "WILDRYDES_BACKEND" in message  # the way out: the local cloud needs no account
