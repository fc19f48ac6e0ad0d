"""Run every notebook under strict nbval against a fresh local cloud, then stop it.

The notebooks' kernels inherit this process's environment, so they all share one local cloud:
a temporary WILDRYDES_HOME, a free port and 3 s windows. The environment is set in full
first: no WILDRYDES_*, AWS_* or MOTO_* variable of the shell reaches the kernels (a
``WILDRYDES_WINDOW_SECONDS=60`` or an ``AWS_PROFILE`` exported there would change the
outputs nbval compares). Producers and the local cloud of that home are stopped at the end,
by PID.

Usage: .venv/bin/python tools/run_nbval.py [extra pytest arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from wildrydes_helpers.run_lab import isolated_env

ROOT = Path(__file__).resolve().parents[1]
SANITIZE_FILE = ROOT / "tests" / "notebooks" / "nbval_sanitize.cfg"
# The window the saved outputs were made with; not read from the shell.
NOTEBOOK_WINDOW_SECONDS = 3
CLEARED_PREFIXES = ("WILDRYDES_", "AWS_", "MOTO_")


def nbval_command(extra: list[str]) -> list[str]:
    """The pytest command line that checks the notebooks."""
    return [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(SANITIZE_FILE),
            "-p", "no:cacheprovider", str(ROOT / "notebooks"), *extra]


def notebook_environment(base: Mapping[str, str], aws_files: Path) -> dict[str, str]:
    """``base`` without the shell's lab, AWS and moto settings, plus the notebooks' own.

    ``isolated_env`` then adds the home, port, backend and window of the fresh local cloud.

    Example
    -------
    >>> env = notebook_environment({"AWS_PROFILE": "p", "WILDRYDES_PREFIX": "zz",
    ...                             "MPLBACKEND": "Agg", "PATH": "/bin"}, Path("/tmp/a"))
    >>> sorted(k for k in env if k.startswith(("AWS_", "WILDRYDES_"))), env["PATH"]
    (['AWS_CONFIG_FILE', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_SHARED_CREDENTIALS_FILE', \
'WILDRYDES_BACKEND', 'WILDRYDES_WINDOW_SECONDS'], '/bin')
    """
    env = {k: v for k, v in base.items() if not k.startswith(CLEARED_PREFIXES)}
    env.pop("MPLBACKEND", None)  # the kernels draw inline, as a student's do
    env.update({
        "WILDRYDES_BACKEND": "local",
        "WILDRYDES_WINDOW_SECONDS": str(NOTEBOOK_WINDOW_SECONDS),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Away from the machine's own AWS configuration and credentials.
        "AWS_CONFIG_FILE": str(aws_files / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws_files / "aws-credentials"),
    })
    return env


def main(argv: list[str] | None = None) -> int:
    """Run nbval; print its wall time; return its exit code."""
    extra = sys.argv[1:] if argv is None else argv
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="wildrydes-nbval-aws-") as aws_files:
        os.environ.clear()
        os.environ.update(notebook_environment(saved, Path(aws_files)))
        try:
            with isolated_env(NOTEBOOK_WINDOW_SECONDS):
                started = time.monotonic()
                code = subprocess.call(nbval_command(extra), cwd=ROOT)
                print(f"notebook_suite_s: {time.monotonic() - started:.1f}")
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
