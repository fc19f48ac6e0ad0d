"""tools/run_nbval.py gives the notebooks' kernels their own settings, whatever the shell exports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.kit.shell_kit import HOSTILE_SHELL

ROOT = Path(__file__).resolve().parents[2]


def test_the_notebook_runner_drops_the_shells_settings(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("run_nbval", ROOT / "tools" / "run_nbval.py")
    assert spec is not None and spec.loader is not None
    run_nbval = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_nbval)
    env = run_nbval.notebook_environment({**HOSTILE_SHELL, "PATH": "/bin"}, tmp_path)
    assert env["WILDRYDES_WINDOW_SECONDS"] == "3"
    assert env["WILDRYDES_BACKEND"] == "local"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_CONFIG_FILE"] == str(tmp_path / "aws-config")
    assert env["PATH"] == "/bin"
    left = sorted(set(HOSTILE_SHELL) & set(env) - {
        "WILDRYDES_WINDOW_SECONDS", "WILDRYDES_BACKEND", "AWS_REGION", "AWS_DEFAULT_REGION"})
    assert left == []
