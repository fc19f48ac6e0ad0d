"""A private local cloud's processes: its zygote, its workers, their children, their environment.

Each test starts a local cloud of its own (its own home and port), invokes a function that
starts a child process of its own (a grandchild of the worker), and checks that stopping the
local cloud, or killing it, leaves none of them running; and that nothing of the server's
environment reaches a function.
"""

from __future__ import annotations

import contextlib
import json
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest

from tests.kit.esm_testkit import zip_source
from wildrydes_helpers import processes
from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.local.credentials import read_credentials
from wildrydes_helpers.local.lambda_.forkserver import fork_available

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not processes.POSIX, reason="process groups are POSIX")]

CANARIES = {"MY_API_SECRET": "canary-secret-1", "WILDRYDES_CANARY": "canary-secret-2",
            "AWS_SESSION_TOKEN": "canary-secret-3"}

FAMILY = textwrap.dedent('''
    import os, subprocess, sys

    def _read(path):
        try:
            with open(path, "rb") as raw:
                return raw.read().decode(errors="replace")
        except OSError:
            return ""

    def handler(event, context):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        return {"pid": os.getpid(), "ppid": os.getppid(), "grandchild": child.pid,
                "env": dict(os.environ), "proc_self": _read("/proc/self/environ"),
                "proc_parent": _read(f"/proc/{os.getppid()}/environ")}
''')


@pytest.fixture
def private_cloud(tmp_path: Path, free_port: int,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Config, Any]]:
    for key, value in CANARIES.items():
        monkeypatch.setenv(key, value)  # in the environment the local cloud starts from
    cfg = load_config(dict(os.environ, WILDRYDES_HOME=str(tmp_path / "home"),
                           WILDRYDES_LOCAL_PORT=str(free_port)))
    endpoint = local_cloud.start(cfg)
    keys = read_credentials(cfg.home)
    assert keys is not None
    kw = {"endpoint_url": endpoint, "region_name": "us-east-1",
          "aws_access_key_id": keys.access_key_id,
          "aws_secret_access_key": keys.secret_access_key}
    role = boto3.client("iam", **kw).create_role(
        RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", **kw)
    lam.create_function(FunctionName="family", Runtime="python3.12", Role=role,
                        Handler="index.handler", Code={"ZipFile": zip_source(FAMILY)})
    left: list[int] = []
    yield cfg, (lam, left)
    local_cloud.stop(cfg)
    for pid in left:  # whatever a failed test left behind, by pid
        if processes.is_ours(pid):
            processes.kill_tree(pid)


def _family(cfg: Config, lam: Any, left: list[int]) -> tuple[int, list[int], dict[str, Any]]:
    body = json.loads(lam.invoke(FunctionName="family")["Payload"].read())
    server = int(local_cloud.status(cfg)["pid"])
    helpers = [p.pid for p in psutil.Process(server).children(recursive=True)]
    left.extend([*helpers, body["grandchild"]])
    assert body["pid"] in helpers and body["grandchild"] in helpers
    if fork_available():
        assert body["ppid"] in helpers  # the zygote
    return server, [*helpers, body["grandchild"]], body


def _all_gone(pids: list[int], seconds: float = 15.0) -> list[int]:
    deadline = time.monotonic() + seconds
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if processes.is_alive(pid)]
        time.sleep(0.05)
    return alive


def test_local_stop_leaves_no_zygote_worker_or_grandchild(private_cloud: Any) -> None:
    cfg, (lam, left) = private_cloud
    _, family, _ = _family(cfg, lam, left)
    assert local_cloud.stop(cfg)
    assert _all_gone(family) == []


def test_a_killed_local_cloud_leaves_no_zygote_worker_or_grandchild(private_cloud: Any) -> None:
    cfg, (lam, left) = private_cloud
    server, family, _ = _family(cfg, lam, left)
    psutil.Process(server).kill()  # the server only: its zygote must notice and clean up
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(server).wait(10)
    assert _all_gone(family) == []


def test_nothing_of_the_servers_environment_reaches_a_function(private_cloud: Any) -> None:
    cfg, (lam, left) = private_cloud
    _, _, body = _family(cfg, lam, left)
    env = body["env"]
    lambda_names = {"_HANDLER", "LAMBDA_TASK_ROOT", "AWS_EXECUTION_ENV", "AWS_REGION",
                    "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY", "PATH", "LANG", "TZ"}
    local_cloud_names = {"AWS_ENDPOINT_URL", "AWS_SDK_UA_APP_ID", "AWS_CONFIG_FILE",
                         "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"}
    assert set(env) <= lambda_names | local_cloud_names, set(env) - lambda_names
    keys = read_credentials(cfg.home)
    assert keys is not None and env["AWS_ACCESS_KEY_ID"] == keys.access_key_id
    for text in (json.dumps(env), body["proc_self"], body["proc_parent"]):
        for secret in CANARIES.values():
            assert secret not in text
