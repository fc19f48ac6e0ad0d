"""The pure parts of the local cloud's process handling (issue 11, items 4, 5 and 7).

- the proof of ownership a local cloud gives for a challenge (local/ownership.py);
- the allow-listed environment the local cloud starts with;
- a state file with the wrong types reads as stale, in the local cloud's and the producer's
  status and stop, never as a crash.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wildrydes_helpers.config import Config
from wildrydes_helpers.local import process
from wildrydes_helpers.local.credentials import HomeCredentials
from wildrydes_helpers.local.ownership import (
    PID_HEADER,
    PROOF_HEADER,
    STATUS_PATH,
    StatusProof,
    new_challenge,
    prove,
    verify,
)
from wildrydes_helpers.producer import background

MINE = HomeCredentials("LOCALMINE", "my-secret")
THEIRS = HomeCredentials("LOCALTHEIRS", "their-secret")


def test_a_proof_holds_only_for_its_secret_boot_id_pid_and_challenge() -> None:
    challenge = new_challenge()
    proof = prove(MINE, "boot1", 42, challenge)
    assert verify(MINE, "boot1", 42, challenge, proof)
    assert not verify(THEIRS, "boot1", 42, challenge, proof)  # another home's secret
    assert not verify(MINE, "boot2", 42, challenge, proof)  # another boot
    assert not verify(MINE, "boot1", 43, challenge, proof)  # another process
    assert not verify(MINE, "boot1", 42, new_challenge(), proof)  # a replayed answer


def _app(status: str = "200 OK"):
    def app(environ, start_response):
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]
    return app


def _call(app, path: str = STATUS_PATH, method: str = "GET",
          challenge: str | None = None) -> dict[str, str]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method}
    if challenge is not None:
        environ["HTTP_X_WILDRYDES_CHALLENGE"] = challenge
    seen: dict[str, str] = {}
    app(environ, lambda status, headers, *exc: seen.update(headers))
    return seen


def test_the_status_route_proves_ownership_only_when_challenged() -> None:
    wrapped = StatusProof(_app(), MINE, lambda: "boot1")
    challenge = new_challenge()
    headers = _call(wrapped, challenge=challenge)
    assert verify(MINE, "boot1", int(headers[PID_HEADER]), challenge, headers[PROOF_HEADER])
    assert PROOF_HEADER not in _call(wrapped)  # no challenge
    assert PROOF_HEADER not in _call(wrapped, challenge="not hex!")
    assert PROOF_HEADER not in _call(wrapped, path="/_wildrydes/faults", challenge=challenge)
    # A refused status request (another Host, say) carries no proof either.
    assert PROOF_HEADER not in _call(StatusProof(_app("403 Forbidden"), MINE, lambda: "b"),
                                     challenge=challenge)


SECRETS = {"AWS_SECRET_ACCESS_KEY": "real", "AWS_ACCESS_KEY_ID": "AKIAREAL",
           "AWS_SESSION_TOKEN": "tok", "AWS_PROFILE": "work", "AWS_ENDPOINT_URL": "https://x",
           "GITHUB_TOKEN": "gh", "OPENAI_API_KEY": "sk", "MOTO_ACCOUNT_ID": "1"}
KEPT = {"PATH": "/usr/bin", "HOME": "/home/ada", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "TZ": "UTC", "TMPDIR": "/tmp", "PYTHONPATH": "/src", "WILDRYDES_PREFIX": "s07"}


def test_the_local_cloud_starts_with_an_allow_listed_environment() -> None:
    cfg = Config(home=Path("/tmp/ada-home"), region="eu-west-1")
    env = process.server_environment({**SECRETS, **KEPT}, cfg)
    assert not set(SECRETS) & set(env)
    assert {k: env[k] for k in KEPT} == KEPT
    assert env["WILDRYDES_HOME"] == "/tmp/ada-home"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert process.foreign_names(env) == []  # so the server does not exec itself again
    assert process.foreign_names({**KEPT, **SECRETS}) == sorted(SECRETS)


def _home(tmp_path: Path) -> Config:
    return Config(home=tmp_path / "home", local_port=4599)


BAD_CLOUD_STATES = [
    {"pid": "abc", "port": 4599, "endpoint": "http://127.0.0.1:4599", "boot_id": "b"},
    {"pid": 4242, "port": "4599", "endpoint": "http://127.0.0.1:4599", "boot_id": "b"},
    {"pid": 4242, "port": 4599, "endpoint": 7, "boot_id": "b"},
    {"pid": 4242, "port": 4599, "endpoint": "http://127.0.0.1:4599", "boot_id": None},
    {"pid": True, "port": 4599, "endpoint": "http://127.0.0.1:4599", "boot_id": "b"},
]


@pytest.mark.parametrize("state", BAD_CLOUD_STATES)
def test_a_wrong_typed_local_cloud_state_reads_as_stale(tmp_path: Path,
                                                       state: dict[str, object]) -> None:
    cfg = _home(tmp_path)
    cfg.home.mkdir()
    process.state_path(cfg).write_text(json.dumps(state))
    assert process.status(cfg) is None
    assert process.stop(cfg) is False
    assert not process.state_path(cfg).exists()  # the stale file is gone


BAD_PRODUCER_STATES = [
    {"pid": "abc", "args": [], "ledger": "/tmp/l.json"},
    {"pid": 4242, "args": "--rate 1", "ledger": "/tmp/l.json"},
    {"pid": 4242, "args": [1, 2], "ledger": "/tmp/l.json"},
    {"pid": 4242, "args": [], "ledger": 3},
    [1, 2, 3],
]


@pytest.mark.parametrize("state", BAD_PRODUCER_STATES)
def test_a_wrong_typed_producer_state_reads_as_stale(tmp_path: Path, state: object) -> None:
    cfg = _home(tmp_path)
    cfg.home.mkdir()
    background.state_path(cfg).write_text(json.dumps(state))
    status = background.producer_status(config=cfg)
    assert not status.running and status.pid is None
    assert background.stop_producer(config=cfg).status == "up to date"
    assert background.stop_all_producers(cfg) == 0


def test_the_servers_own_boto3_uses_the_homes_key_pair_and_no_file_or_profile(
        tmp_path: Path) -> None:
    import os

    import boto3

    saved = dict(os.environ)
    try:
        os.environ.update({"AWS_PROFILE": "student", "AWS_SESSION_TOKEN": "student-token",
                           "AWS_ACCESS_KEY_ID": "AKIASTUDENT", "AWS_SECRET_ACCESS_KEY": "real"})
        process._sdk_environment(Config(home=tmp_path, region="eu-west-1"), MINE)
        credentials = boto3.Session().get_credentials()
        assert credentials is not None
        frozen = credentials.get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == \
            (MINE.access_key_id, MINE.secret_access_key, None)
        assert "AWS_PROFILE" not in os.environ
        assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
        assert os.environ["AWS_REGION"] == "eu-west-1"
    finally:
        os.environ.clear()
        os.environ.update(saved)
