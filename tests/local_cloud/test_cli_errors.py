"""A user error on the command line gives one line that says what to do, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _wildrydes(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-m", "wildrydes_helpers", *args], env=full_env,
                          capture_output=True, text=True, timeout=60)


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("wildrydes: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("port, needle", [("80", "out of range 1024..65535"),
                                          ("abc", "not a whole number")])
def test_bad_port_option(port, needle):
    proc = _wildrydes("local", "start", "--port", port)
    _assert_one_line_error(proc, "--port", port, needle)


def test_unknown_subcommand():
    proc = _wildrydes("fly")
    _assert_one_line_error(proc, "'fly'", "--help")


def test_unknown_local_action():
    proc = _wildrydes("local", "restart")
    _assert_one_line_error(proc, "'restart'")


@pytest.mark.parametrize("command", [("local", "status"), ("local", "stop"), ("doctor",)])
def test_bad_window_seconds_with_any_command(command):
    proc = _wildrydes(*command, WILDRYDES_WINDOW_SECONDS="0")
    _assert_one_line_error(proc, "WILDRYDES_WINDOW_SECONDS=0", "1..900")


@pytest.mark.parametrize("command", [("local", "status"), ("doctor",)])
def test_unknown_backend_with_any_command(command):
    proc = _wildrydes(*command, WILDRYDES_BACKEND="nope")
    _assert_one_line_error(proc, "WILDRYDES_BACKEND", "'nope'", "'local'")
