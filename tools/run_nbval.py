"""Run every notebook under strict nbval against a fresh local cloud, then stop it.

The notebooks' kernels inherit this process's environment, so they all share one local cloud:
a temporary WILDRYDES_HOME, a free port and short windows (WILDRYDES_WINDOW_SECONDS, default
3). Producers and the local cloud of that home are stopped at the end, by PID.

Usage: .venv/bin/python tools/run_nbval.py [extra pytest arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from wildrydes_helpers.run_lab import isolated_env

ROOT = Path(__file__).resolve().parents[1]


def nbval_command(extra: list[str]) -> list[str]:
    """The pytest command line that checks the notebooks."""
    return [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
            "-p", "no:cacheprovider", str(ROOT / "notebooks"), *extra]


def main(argv: list[str] | None = None) -> int:
    """Run nbval; print its wall time; return its exit code."""
    extra = sys.argv[1:] if argv is None else argv
    window = int(os.environ.get("WILDRYDES_WINDOW_SECONDS") or 3)
    with isolated_env(window):
        started = time.monotonic()
        code = subprocess.call(nbval_command(extra), cwd=ROOT)
        print(f"notebook_suite_s: {time.monotonic() - started:.1f}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
