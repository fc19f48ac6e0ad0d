"""Two homes on one machine never share a local cloud (issue 11, item 4).

Probes of the issue, each a test:

- a second home asking for the same fixed port was handed the first home's cloud;
- a home whose state file names another home's cloud (its pid, port and boot id, all of
  which anyone can learn) took it for its own;
- a program on the port that echoes the boot id, even replaying a proof it saw once;
- with the port unset and the default one taken, the home picks a free port, records it,
  and every CLI call of the home finds it;
- neither home's credentials are accepted by the other's cloud;
- as root: the same with two Unix users.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.errors import LocalCloudError
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.local.credentials import (
    HomeCredentials,
    ensure_credentials,
    read_credentials,
)
from wildrydes_helpers.local.ownership import CHALLENGE_HEADER, PID_HEADER, PROOF_HEADER
from wildrydes_helpers.ports import free_port as free_port_now
from wildrydes_helpers.processes import POSIX, is_alive, stop_tree
from wildrydes_helpers.statefile import read_state

# The local cloud checks every request's signature once issue 11's SigV4 part is in.
SIGNATURES_CHECKED = importlib.util.find_spec("wildrydes_helpers.local.auth") is not None
needs_signature_checks = pytest.mark.skipif(
    not SIGNATURES_CHECKED, reason="the local cloud does not verify signatures yet")


def _home(root: Path, name: str, port: int, fixed: bool = False) -> Config:
    base = load_config({"WILDRYDES_HOME": str(root / name)})
    return dataclasses.replace(base, local_port=port, local_port_fixed=fixed)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Config]]:
    homes: list[Config] = []
    yield homes
    for cfg in homes:
        local_cloud.stop(cfg)


def test_a_second_home_on_the_same_fixed_port_gets_an_error_not_the_first_homes_cloud(
        tmp_path: Path, free_port: int, started: list[Config]) -> None:
    ada, bo = _home(tmp_path, "ada", free_port, True), _home(tmp_path, "bo", free_port, True)
    started += [ada, bo]
    ada_endpoint = local_cloud.start(ada)
    with pytest.raises(LocalCloudError, match="another local cloud.*never shared"):
        local_cloud.start(bo)
    assert local_cloud.status(bo) is None
    assert local_cloud.status(ada)["endpoint"] == ada_endpoint  # ada's cloud untouched


def test_a_state_file_naming_another_homes_cloud_does_not_hand_it_over(
        tmp_path: Path, free_port: int, started: list[Config]) -> None:
    ada, cy = _home(tmp_path, "ada", free_port), _home(tmp_path, "cy", free_port)
    started += [ada, cy]
    local_cloud.start(ada)
    ensure_credentials(cy.home)  # cy has keys of its own: only the proof tells them apart
    shutil.copy(local_cloud.state_path(ada), local_cloud.state_path(cy))  # pid, port, boot id
    assert local_cloud.status(cy) is None
    cy_endpoint = local_cloud.start(cy)  # its own cloud, on a free port
    assert local_cloud.status(cy)["boot_id"] != local_cloud.status(ada)["boot_id"]
    assert cy_endpoint != local_cloud.status(ada)["endpoint"]


class _Squatter(http.server.BaseHTTPRequestHandler):
    """Answers the status route with whatever it was given: a boot id, a proof seen once."""

    answer: dict[str, Any] = {}
    headers_to_send: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _status_with_proof(port: int, challenge: str) -> tuple[dict[str, Any], dict[str, str]]:
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/_wildrydes/status",
                                     headers={CHALLENGE_HEADER: challenge})
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read()), {PID_HEADER: resp.headers[PID_HEADER],
                                         PROOF_HEADER: resp.headers[PROOF_HEADER]}


def test_a_program_on_the_port_that_replays_the_status_is_not_the_homes_cloud(
        tmp_path: Path, free_port: int, started: list[Config]) -> None:
    ada = _home(tmp_path, "ada", free_port, True)
    started.append(ada)
    local_cloud.start(ada)
    state = json.loads(local_cloud.state_path(ada).read_text())
    # Everything ada's cloud ever said, replayed by a squatter on another port.
    answer, proof = _status_with_proof(ada.local_port, uuid.uuid4().hex)
    squatter = type("Replay", (_Squatter,), {"answer": answer, "headers_to_send": proof})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), squatter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        forged = {**state, "port": port, "endpoint": f"http://127.0.0.1:{port}"}
        local_cloud.state_path(ada).write_text(json.dumps(forged))
        assert local_cloud.status(ada) is None  # right pid and boot id, stale proof
    finally:
        server.shutdown()
        server.server_close()
        local_cloud.state_path(ada).write_text(json.dumps(state))
    assert local_cloud.status(ada) is not None


def test_the_default_port_held_by_another_home_moves_and_the_move_is_remembered(
        tmp_path: Path, free_port: int, started: list[Config]) -> None:
    ada, bo = _home(tmp_path, "ada", free_port), _home(tmp_path, "bo", free_port)
    started += [ada, bo]
    ada_endpoint, bo_endpoint = local_cloud.start(ada), local_cloud.start(bo)
    assert ada_endpoint.endswith(f":{free_port}") and bo_endpoint != ada_endpoint
    chosen = json.loads(local_cloud.port_record_path(bo).read_text())["port"]
    assert bo_endpoint.endswith(f":{chosen}")
    env = {**os.environ, "WILDRYDES_HOME": str(bo.home)}
    env.pop("WILDRYDES_LOCAL_PORT", None)
    cli = subprocess.run([sys.executable, "-m", "wildrydes_helpers", "local", "status"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert cli.stdout.strip() == bo_endpoint  # every CLI call of bo's home finds it
    local_cloud.stop(bo)
    assert local_cloud.start(bo) == bo_endpoint  # the same port again: terminals still work


def _tables(endpoint: str, credentials: HomeCredentials) -> list[str]:
    client = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        config=botocore.config.Config(retries={"max_attempts": 1}))
    return client.list_tables()["TableNames"]


@needs_signature_checks
def test_neither_home_can_reach_the_others_cloud(tmp_path: Path, free_port: int,
                                                 started: list[Config]) -> None:
    ada, bo = _home(tmp_path, "ada", free_port), _home(tmp_path, "bo", free_port)
    started += [ada, bo]
    ada_endpoint, bo_endpoint = local_cloud.start(ada), local_cloud.start(bo)
    ada_keys, bo_keys = read_credentials(ada.home), read_credentials(bo.home)
    assert ada_keys is not None and bo_keys is not None and ada_keys != bo_keys
    assert isinstance(_tables(ada_endpoint, ada_keys), list)
    for endpoint, keys in ((ada_endpoint, bo_keys), (bo_endpoint, ada_keys)):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            _tables(endpoint, keys)
        assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"


# ---- two Unix users (only when the tests run as root) -------------------------------------

_AS_USER = r"""
import dataclasses, json, sys
import boto3, botocore.config, botocore.exceptions
from wildrydes_helpers.config import load_config
from wildrydes_helpers.errors import LocalCloudError
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.local.credentials import read_credentials

action, port, fixed = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "fixed"
cfg = dataclasses.replace(load_config(), local_port=port, local_port_fixed=fixed)
out = {}
if action == "start":
    try:
        out["endpoint"] = local_cloud.start(cfg)
        out["status"] = local_cloud.status(cfg)
    except LocalCloudError as exc:
        out["error"] = str(exc)
elif action == "stop":
    out["stopped"] = local_cloud.stop(cfg)
elif action == "read":
    try:
        open(sys.argv[4]).read()
        out["read"] = True
    except PermissionError:
        out["read"] = False
elif action == "call":
    keys = read_credentials(cfg.home)
    client = boto3.client("dynamodb", endpoint_url=sys.argv[4], region_name="us-east-1",
                          aws_access_key_id=keys.access_key_id,
                          aws_secret_access_key=keys.secret_access_key,
                          config=botocore.config.Config(retries={"max_attempts": 1}))
    try:
        client.list_tables()
        out["code"] = "ok"
    except botocore.exceptions.ClientError as exc:
        out["code"] = exc.response["Error"]["Code"]
print(json.dumps(out))
"""


def _python_for(user: str) -> tuple[str, dict[str, str]] | None:
    """An interpreter ``user`` may run, with what it needs to import the lab, or None.

    The test venv's own Python may live under root's home (pyenv), which other users cannot
    enter; a system Python of the same version then runs the venv's packages instead.
    """
    code = [sys.executable, "-c", "import wildrydes_helpers"]
    here = Path(__file__).resolve().parents[2]
    packages = [p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix)]
    same = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    for python, extra in ((sys.executable, {}),
                          (same, {"PYTHONPATH": os.pathsep.join([str(here), *packages])})):
        if not os.path.exists(python):
            continue
        try:
            done = subprocess.run([python, *code[1:]], env={"PATH": "/usr/bin:/bin", **extra},
                                  user=user, cwd="/", capture_output=True, timeout=60)
        except PermissionError:
            continue
        if done.returncode == 0:
            return python, extra
    return None


class _User:
    def __init__(self, name: str, home: Path) -> None:
        self.name, self.home = name, home
        self.python, self.extra = sys.executable, {}

    def env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
                "WILDRYDES_HOME": str(self.home / "wildrydes"), "LANG": "C.UTF-8",
                **self.extra}

    def run(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([self.python, "-c", _AS_USER, *args], env=self.env(),
                              user=self.name, cwd=self.home, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def _remove_user(name: str) -> None:
    # userdel refuses while a process of the user is still exiting: ask again for a while.
    deadline = time.monotonic() + 30
    while subprocess.run(["userdel", name], capture_output=True).returncode == 8 \
            and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture
def two_users() -> Iterator[tuple[_User, _User]]:
    if not POSIX or os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("two Unix users need root and useradd")
    root = Path(tempfile.mkdtemp(prefix="wildrydes-users-", dir="/tmp"))
    os.chmod(root, 0o711)
    users: list[_User] = []
    pids: list[int] = []
    try:
        for _ in range(2):
            name = f"wr{uuid.uuid4().hex[:8]}"
            subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name],
                           check=True, capture_output=True)
            user = _User(name, root / name)
            found = _python_for(name)
            if found is None:
                pytest.skip("no Python that another Unix user may run")
            user.python, user.extra = found
            users.append(user)
            # A Unix home others may enter: only WILDRYDES_HOME's own 0700 keeps bo out.
            (root / name).mkdir()
            os.chmod(root / name, 0o755)
            shutil.chown(root / name, user=name)
        yield users[0], users[1]
    finally:
        for user in users:
            state = read_state(user.home / "wildrydes" / "local-cloud.json")
            if state and isinstance(state.get("pid"), int):
                pids.append(state["pid"])
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run([user.python, "-c", _AS_USER, "stop", "1024", "x"],
                               env=user.env(), user=user.name, cwd=user.home,
                               capture_output=True, timeout=60)
        for pid in pids:  # the clouds these tests started, should a stop have failed
            if is_alive(pid):
                stop_tree(pid)
        for user in users:
            _remove_user(user.name)
        shutil.rmtree(root, ignore_errors=True)


def test_two_unix_users_each_get_their_own_cloud_and_cannot_use_the_others(
        two_users: tuple[_User, _User]) -> None:
    ada, bo = two_users
    port = free_port_now()
    first = ada.run("start", str(port), "default")
    assert first["endpoint"].endswith(f":{port}")
    # Bo naming ada's port is refused, never handed ada's cloud.
    named = bo.run("start", str(port), "fixed")
    assert "another local cloud" in named.get("error", "") and "endpoint" not in named
    # Bo's default port is held by ada's cloud: bo gets a cloud of its own elsewhere.
    second = bo.run("start", str(port), "default")
    assert second["endpoint"] != first["endpoint"]
    assert second["status"]["boot_id"] != first["status"]["boot_id"]
    # Ada's home and credentials are private to ada.
    secret_file = ada.home / "wildrydes" / "credentials.json"
    assert bo.run("read", str(port), "default", str(secret_file)) == {"read": False}
    if SIGNATURES_CHECKED:
        assert bo.run("call", str(port), "default", first["endpoint"]) == \
            {"code": "UnrecognizedClientException"}
        assert ada.run("call", str(port), "default", second["endpoint"]) == \
            {"code": "UnrecognizedClientException"}
    assert ada.run("stop", str(port), "default") == {"stopped": True}
    assert bo.run("stop", str(port), "default") == {"stopped": True}
