"""Run every notebook under strict nbval against a fresh local cloud, then stop it.

The notebooks' kernels inherit this process's environment, so they all share one local cloud:
a temporary WILDRYDES_HOME, a free port and the window the saved outputs were made with
(``--window``, default ``NOTEBOOK_WINDOW_SECONDS``: the lab's own 60 s). ``isolated_env`` sets
the environment in full: no WILDRYDES_*, AWS_* or MOTO_* variable of the shell reaches the
kernels (a ``WILDRYDES_WINDOW_SECONDS`` or an ``AWS_PROFILE`` exported there would change the
outputs nbval compares). Producers and the local cloud of that home are stopped at the end, by
PID. At 60 s most of the run is waiting for windows, so ``make test`` runs it beside pytest.

Usage: .venv/bin/python tools/run_nbval.py [--window N] [extra pytest arguments]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from wildrydes_helpers.run_lab import isolated_env

ROOT = Path(__file__).resolve().parents[1]
SANITIZE_FILE = ROOT / "tests" / "notebooks" / "nbval_sanitize.cfg"
# The window the saved outputs are made with (tools/execute_notebooks.py's default too): the
# lab's own, so what a student sees before running a cell is what running it gives.
NOTEBOOK_WINDOW_SECONDS = 60


def nbval_command(extra: list[str]) -> list[str]:
    """The pytest command line that checks the notebooks.

    Example
    -------
    >>> nbval_command(["-x"])[-2:] == [str(ROOT / "notebooks"), "-x"]
    True
    """
    return [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(SANITIZE_FILE),
            "-p", "no:cacheprovider", str(ROOT / "notebooks"), *extra]


def parse_args(argv: list[str]) -> tuple[int, list[str]]:
    """(window seconds, the arguments left for pytest).

    Example
    -------
    >>> parse_args(["--window", "3", "-x"])
    (3, ['-x'])
    >>> parse_args([])
    (60, [])
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=NOTEBOOK_WINDOW_SECONDS,
                        help="window length in seconds (default: that of the saved outputs)")
    args, extra = parser.parse_known_args(argv)
    if args.window < 1:
        parser.error(f"--window {args.window} must be at least 1 second")
    return args.window, extra


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SIGTERM (``make test`` interrupted) unwinds like Ctrl-C: pytest is killed by
    # subprocess.call and isolated_env stops this run's producers and local cloud.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run nbval; print its window and wall time; return its exit code."""
    window, extra = parse_args(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with isolated_env(window):
        started = time.monotonic()
        code = subprocess.call(nbval_command(extra), cwd=ROOT)
        print(f"window: {window} s")
        print(f"notebook_suite_s: {time.monotonic() - started:.1f}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
