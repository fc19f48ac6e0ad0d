"""Run every notebook under strict nbval against a fresh local cloud, then stop it.

The notebooks' kernels inherit this process's environment, so they all share one local cloud:
a temporary WILDRYDES_HOME, a free port and 3 s windows. ``isolated_env`` sets the environment
in full: no WILDRYDES_*, AWS_* or MOTO_* variable of the shell reaches the kernels (a
``WILDRYDES_WINDOW_SECONDS=60`` or an ``AWS_PROFILE`` exported there would change the outputs
nbval compares). Producers and the local cloud of that home are stopped at the end, by PID.

Usage: .venv/bin/python tools/run_nbval.py [extra pytest arguments]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from wildrydes_helpers.run_lab import isolated_env

ROOT = Path(__file__).resolve().parents[1]
SANITIZE_FILE = ROOT / "tests" / "notebooks" / "nbval_sanitize.cfg"
# The window the saved outputs were made with; not read from the shell.
NOTEBOOK_WINDOW_SECONDS = 3


def nbval_command(extra: list[str]) -> list[str]:
    """The pytest command line that checks the notebooks."""
    return [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(SANITIZE_FILE),
            "-p", "no:cacheprovider", str(ROOT / "notebooks"), *extra]


def main(argv: list[str] | None = None) -> int:
    """Run nbval; print its wall time; return its exit code."""
    extra = sys.argv[1:] if argv is None else argv
    with isolated_env(NOTEBOOK_WINDOW_SECONDS):
        started = time.monotonic()
        code = subprocess.call(nbval_command(extra), cwd=ROOT)
        print(f"notebook_suite_s: {time.monotonic() - started:.1f}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
