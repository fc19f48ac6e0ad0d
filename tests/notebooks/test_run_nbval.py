"""The notebook runner (tools/run_nbval.py, `wildrydes run-lab`) gives the kernels their own
settings, whatever the shell exports, and gives the shell's back afterwards."""

from __future__ import annotations

import os

import pytest

from tests.kit.shell_kit import HOSTILE_SHELL
from wildrydes_helpers.run_lab import isolated_env


def test_the_notebook_runner_drops_the_shells_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in HOSTILE_SHELL.items():
        monkeypatch.setenv(name, value)
    before = dict(os.environ)
    with isolated_env(3) as env:
        assert env == dict(os.environ)  # the kernels inherit exactly this
        assert env["WILDRYDES_WINDOW_SECONDS"] == "3"
        assert env["WILDRYDES_BACKEND"] == "local"
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
        assert env["AWS_CONFIG_FILE"].startswith(env["WILDRYDES_HOME"])
        assert "MPLBACKEND" not in env  # kernels draw inline, as a student's do
        left = sorted(set(HOSTILE_SHELL) & set(env) - {
            "WILDRYDES_WINDOW_SECONDS", "WILDRYDES_BACKEND", "WILDRYDES_HOME",
            "WILDRYDES_LOCAL_PORT", "AWS_REGION", "AWS_DEFAULT_REGION"})
        assert left == []
        assert env["WILDRYDES_HOME"] != HOSTILE_SHELL.get("WILDRYDES_HOME")
    assert dict(os.environ) == before  # the shell's settings are back
