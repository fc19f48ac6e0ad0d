"""The local cloud's process keeps the home's secrets in and the student's secrets out.

Probes of issue 11 (items 5 and 7), each a test:

- AWS keys (and any other secret) exported before ``wildrydes local start`` were readable in
  ``/proc/<server pid>/environ``; so were they for a ``wildrydes local serve`` in a shell;
- the home was ``0755`` and its files ``0644`` (the log, the producer's ledger and log);
- a state file whose pid is ``"abc"`` crashed ``wildrydes local status`` and ``stop``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.processes import POSIX, environment, is_alive, stop_tree
from wildrydes_helpers.producer import background
from wildrydes_helpers.session import get_session

SECRETS = {"AWS_ACCESS_KEY_ID": "AKIASTUDENTREALKEY", "AWS_SECRET_ACCESS_KEY": "student-real",
           "AWS_SESSION_TOKEN": "student-token", "AWS_PROFILE": "student-profile",
           "GITHUB_TOKEN": "student-gh-token"}
posix_only = pytest.mark.skipif(not POSIX, reason="file modes, /proc and exec: POSIX")


def _home(root: Path, name: str, port: int) -> Config:
    return dataclasses.replace(load_config({"WILDRYDES_HOME": str(root / name)}),
                               local_port=port, local_port_fixed=True)


@pytest.fixture
def home(tmp_path: Path, free_port: int) -> Iterator[Config]:
    cfg = _home(tmp_path, "home", free_port)
    yield cfg
    background.stop_all_producers(cfg)
    local_cloud.stop(cfg)


def _leaked(pid: int) -> list[str]:
    env = environment(pid)
    assert env, "the server's environment could not be read"
    return sorted(k for k, v in SECRETS.items() if env.get(k) == v)


@posix_only
def test_secrets_exported_before_start_never_reach_the_server(
        home: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    local_cloud.start(home)
    running = local_cloud.status(home)
    assert running is not None
    assert _leaked(running["pid"]) == []
    assert environment(running["pid"])["WILDRYDES_HOME"] == str(home.home)


@posix_only
def test_a_serve_typed_in_a_shell_drops_the_shells_secrets_too(home: Config) -> None:
    env = {**os.environ, **SECRETS, "WILDRYDES_HOME": str(home.home)}
    env.pop("WILDRYDES_LOCAL_PORT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wildrydes_helpers", "local", "serve",
         "--port", str(home.local_port)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while local_cloud.status(home) is None:
            assert proc.poll() is None, "the foreground local cloud stopped"
            assert time.monotonic() < deadline, "the foreground local cloud never answered"
            time.sleep(0.1)
        assert local_cloud.status(home)["pid"] == proc.pid  # the same process, exec'd
        assert _leaked(proc.pid) == []
    finally:
        stop_tree(proc.pid)
        proc.wait(10)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@posix_only
def test_the_home_is_0700_and_every_file_in_it_0600(home: Config) -> None:
    home.home.mkdir(parents=True)
    os.chmod(home.home, 0o755)  # made by an older lab, or by hand
    lab = get_session(config=home)
    kinesis = lab.client("kinesis")
    kinesis.create_stream(StreamName=home.stream_name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=home.stream_name,
                                             WaiterConfig={"Delay": 0.2})
    background.start_producer(["Shadowfax"], rate=20, count=3, session=lab)
    deadline = time.monotonic() + 60
    while background.producer_status(config=home).running:
        assert time.monotonic() < deadline, "the producer did not finish"
        time.sleep(0.1)
    files = {p.name: _mode(p) for p in home.home.iterdir()}
    for expected in ("credentials.json", "local-cloud.json", "local-cloud.log",
                     "producer.json", "producer.log", "ledger.json"):
        assert expected in files
    assert _mode(home.home) == 0o700
    assert {name: mode for name, mode in files.items() if mode != 0o600} == {}


def _cli(home: Config, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WILDRYDES_HOME": str(home.home),
           "WILDRYDES_LOCAL_PORT": str(home.local_port)}
    return subprocess.run([sys.executable, "-m", "wildrydes_helpers", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_state_file_with_pid_abc_reads_as_not_running_in_the_cli(home: Config) -> None:
    home.home.mkdir(parents=True)
    local_cloud.state_path(home).write_text(json.dumps(
        {"pid": "abc", "port": home.local_port, "endpoint": home.local_endpoint,
         "boot_id": "b"}))
    status = _cli(home, "local", "status")
    assert (status.returncode, status.stdout.strip()) == (1, "the local cloud is not running")
    assert "Traceback" not in status.stderr
    stop = _cli(home, "local", "stop")
    assert (stop.returncode, stop.stdout.strip()) == (0, "the local cloud was not running")
    assert not local_cloud.state_path(home).exists()


@posix_only
def test_a_hung_local_cloud_is_still_stopped_by_its_recorded_pid(home: Config) -> None:
    import signal

    local_cloud.start(home)
    pid = local_cloud.status(home)["pid"]
    os.kill(pid, signal.SIGSTOP)  # answers nothing any more, as a hung server
    try:
        assert local_cloud.status(home) is None
        assert local_cloud.stop(home) is True
        assert not is_alive(pid)
    finally:
        if is_alive(pid):
            os.kill(pid, signal.SIGCONT)
            stop_tree(pid)


def test_the_homes_own_cloud_is_found_again_when_its_state_file_is_lost(home: Config) -> None:
    endpoint = local_cloud.start(home)
    before = local_cloud.status(home)
    local_cloud.state_path(home).unlink()
    assert local_cloud.status(home) is None
    # It proves it is this home's (the home's secret), so it is recorded again, not doubled.
    assert local_cloud.start(home) == endpoint
    after = local_cloud.status(home)
    assert after is not None
    assert (after["pid"], after["boot_id"]) == (before["pid"], before["boot_id"])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_whatever_the_local_cloud_creates_is_private(home: Config) -> None:
    local_cloud.start(home)
    pid = local_cloud.status(home)["pid"]
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    if "Umask" not in fields:
        pytest.skip("this kernel does not show a process's umask")
    assert fields["Umask"].strip() == "0077"
