"""Worker processes without a local cloud: forked by the zygote or spawned, and their groups.

Each test starts real worker processes through pool.Worker (forked from a ForkServer's
zygote, or spawned where the test asks for it) on a small function written to a temporary
folder, and checks what the function sees and which processes are left afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from wildrydes_helpers import processes
from wildrydes_helpers.local.lambda_.forkserver import ForkServer, ZygoteError, fork_available
from wildrydes_helpers.local.lambda_.pool import InitFailed, Worker
from wildrydes_helpers.local.moto_backends import FunctionSpec

pytestmark = pytest.mark.skipif(not processes.POSIX, reason="process groups are POSIX")

SOURCE = textwrap.dedent('''
    import json, os, subprocess, sys, time

    # Read at import time: the function's own init, in the worker, after its environment.
    PRELOADED = "boto3" in sys.modules
    COLOUR_AT_INIT = os.environ.get("COLOUR")

    def handler(event, context):
        action = event.get("action")
        out = {"pid": os.getpid(), "pgid": os.getpgid(0), "sid": os.getsid(0),
               "preloaded": PRELOADED, "colour": COLOUR_AT_INIT, "env": dict(os.environ),
               "cwd": os.getcwd()}
        if os.path.exists("/proc/self/environ"):
            with open("/proc/self/environ", "rb") as raw:
                out["proc_environ"] = raw.read().decode(errors="replace")
        if action in ("grandchild", "grandchild_then_sleep"):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
            out["grandchild"] = child.pid
            with open(event["report"], "w") as report:
                report.write(str(child.pid))
        if action in ("grandchild_then_sleep", "sleep"):
            time.sleep(event["seconds"])
        if action == "exit":
            sys.exit(4)
        return out
''')


def _spec(timeout: float = 3) -> FunctionSpec:
    return FunctionSpec("us-east-1", "wk", "$LATEST", "arn:aws:lambda:us-east-1:1:function:wk",
                        "index.handler", "python3.12", timeout, 128, "arn:role", (), "c2hh",
                        "Zip", b"")


def _code(tmp_path: Path, source: str = SOURCE) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "index.py").write_text(source)
    return code


def _env(code: Path, **extra: str) -> dict[str, str]:
    return {"_HANDLER": "index.handler", "LAMBDA_TASK_ROOT": str(code),
            "PATH": os.environ.get("PATH", os.defpath), **extra}


def _start(server: ForkServer | None, tmp_path: Path, timeout: float = 3,
           source: str = SOURCE, **extra: str) -> Worker:
    code = _code(tmp_path, source)
    worker = Worker.start(_spec(timeout), _env(code, **extra), code, "stream", server)
    worker.wait_ready(time.monotonic() + 30)
    return worker


def _run(worker: Worker, event: dict[str, Any], **kwargs: Any) -> tuple[str, dict[str, Any]]:
    import json

    outcome = worker.run("req-1", json.dumps(event).encode(), "arn", **kwargs)
    body = json.loads(outcome.payload) if outcome.payload else None
    return outcome.status, body


def _gone_within(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not processes.is_alive(pid):
            return True
        time.sleep(0.02)
    return not processes.is_alive(pid)


@pytest.fixture(autouse=True)
def _no_grandchild_left(tmp_path: Path) -> Iterator[None]:
    """Even when a test fails, the grandchildren it started are stopped (by their pid)."""
    yield
    for report in tmp_path.rglob("grandchild.pid"):
        pid = int(report.read_text())
        if processes.is_ours(pid, "time.sleep"):
            processes.kill_tree(pid)


@pytest.fixture
def server() -> Iterator[ForkServer]:
    if not fork_available():
        pytest.skip("fork is not available here")
    # A secret-looking variable in the source environment must not reach the zygote.
    forks = ForkServer({"PATH": os.environ.get("PATH", ""), "CANARY_SECRET": "do-not-leak"})
    forks.start()
    yield forks
    forks.close()


@pytest.fixture(params=["fork", "spawn"])
def maybe_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ForkServer | None]:
    if request.param == "spawn":
        yield None
        return
    yield request.getfixturevalue("server")


def test_forked_worker_has_the_sdk_imported_and_runs_its_own_init(
        server: ForkServer, tmp_path: Path) -> None:
    worker = _start(server, tmp_path, COLOUR="blue")
    try:
        assert worker.init_ms is not None and worker.init_ms > 0  # REPORT's Init Duration
        status, body = _run(worker, {})
        assert status == "ok"
        assert body["preloaded"] is True  # boto3 came from the zygote, not the function
        assert body["colour"] == "blue"  # the module was imported after the env was set
        assert body["cwd"] == str(tmp_path / "code")
        assert body["pid"] != server.pid
        assert "CANARY_SECRET" not in body["env"]
        if "proc_environ" in body:  # Linux: what another process of the user could read
            assert "do-not-leak" not in body["proc_environ"]
            assert "blue" not in body["proc_environ"]
        assert worker.max_memory_mb() > 5  # the pool reads the forked worker's memory
    finally:
        worker.stop()


def test_the_zygote_runs_no_thread_and_no_secret(server: ForkServer, tmp_path: Path) -> None:
    worker = _start(server, tmp_path)  # the zygote is ready once a worker started
    try:
        assert server.pid is not None
        zygote = psutil.Process(server.pid)
        assert zygote.num_threads() == 1  # safe to fork
        with contextlib.suppress(psutil.AccessDenied):
            assert "CANARY_SECRET" not in zygote.environ()
    finally:
        worker.stop()


def test_each_worker_leads_its_own_process_group(maybe_server: ForkServer | None,
                                                 tmp_path: Path) -> None:
    worker = _start(maybe_server, tmp_path)
    try:
        body = _run(worker, {})[1]
        assert body["pid"] == worker.proc.pid
        assert body["pgid"] == body["pid"] == body["sid"]
        assert body["pgid"] != os.getpgid(0)
    finally:
        worker.stop()


def test_a_timeout_kills_the_workers_whole_group(maybe_server: ForkServer | None,
                                                 tmp_path: Path) -> None:
    worker = _start(maybe_server, tmp_path, timeout=1)
    report = tmp_path / "grandchild.pid"
    status, body = _run(worker, {"action": "grandchild_then_sleep", "seconds": 30,
                                 "report": str(report)})
    assert status == "timeout"
    assert body["errorType"] == "Sandbox.Timedout"
    grandchild = int(report.read_text())
    assert _gone_within(worker.proc.pid)
    assert _gone_within(grandchild), "the function's own child outlived its timed-out worker"


def test_a_killed_worker_takes_its_group_and_reads_signal_killed(
        maybe_server: ForkServer | None, tmp_path: Path) -> None:
    worker = _start(maybe_server, tmp_path)
    report = tmp_path / "grandchild.pid"
    assert _run(worker, {"action": "grandchild", "report": str(report)})[0] == "ok"
    grandchild = int(report.read_text())
    assert processes.is_alive(grandchild)
    # A quick invocation: the kill lands before it can answer (pool.Worker.run kills first).
    status, body = _run(worker, {}, kill=True)
    assert status == "died"
    assert body["errorMessage"].endswith("Runtime exited with error: signal: killed")
    assert _gone_within(grandchild)


def test_a_worker_that_exits_takes_its_group(maybe_server: ForkServer | None,
                                             tmp_path: Path) -> None:
    worker = _start(maybe_server, tmp_path)
    report = tmp_path / "grandchild.pid"
    _run(worker, {"action": "grandchild", "report": str(report)})
    status, body = _run(worker, {"action": "exit"})
    assert status == "died"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 4")
    assert _gone_within(int(report.read_text()))


def test_an_init_error_in_a_forked_worker(server: ForkServer, tmp_path: Path) -> None:
    with pytest.raises(InitFailed) as failed:
        _start(server, tmp_path, source="raise RuntimeError('init broke')\n")
    assert failed.value.payload["errorType"] == "RuntimeError"
    assert failed.value.payload["errorMessage"] == "init broke"
    again = tmp_path / "again"
    again.mkdir()
    worker = _start(server, again)
    try:
        assert _run(worker, {})[0] == "ok"  # the zygote carries on
    finally:
        worker.stop()


def test_closing_the_fork_server_leaves_no_process(tmp_path: Path) -> None:
    if not fork_available():
        pytest.skip("fork is not available here")
    forks = ForkServer()
    forks.start()
    worker = _start(forks, tmp_path)
    report = tmp_path / "grandchild.pid"
    _run(worker, {"action": "grandchild", "report": str(report)})
    zygote = forks.pid
    assert zygote is not None
    forks.close()  # the local cloud stops without stopping the worker itself first
    for pid in (zygote, worker.proc.pid, int(report.read_text())):
        assert _gone_within(pid), f"process {pid} outlived the fork server"
    worker.stop()


def test_a_dead_zygote_is_replaced_and_its_workers_end(server: ForkServer,
                                                       tmp_path: Path) -> None:
    worker = _start(server, tmp_path)
    report = tmp_path / "grandchild.pid"
    _run(worker, {"action": "grandchild", "report": str(report)})
    old = server.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    assert _gone_within(worker.proc.pid)
    assert _gone_within(int(report.read_text()))
    assert worker.proc.wait(10) is not None
    again = tmp_path / "again"
    again.mkdir()
    fresh = _start(server, again)
    try:
        assert _run(fresh, {})[0] == "ok"
        assert server.pid not in (None, old)
    finally:
        fresh.stop()
        worker.stop()


def test_spawned_worker_runs_without_a_zygote(tmp_path: Path) -> None:
    worker = _start(None, tmp_path, COLOUR="green")
    try:
        body = _run(worker, {})[1]
        assert body["colour"] == "green"
        assert body["preloaded"] is False  # a new interpreter: the function imports boto3
    finally:
        worker.stop()


def test_a_closed_fork_server_refuses_to_fork(tmp_path: Path) -> None:
    if not fork_available():
        pytest.skip("fork is not available here")
    forks = ForkServer()
    forks.start()
    forks.close()
    # The runtime catches this and spawns the worker instead (runtime._spawn).
    with pytest.raises(ZygoteError):
        _start(forks, tmp_path)
