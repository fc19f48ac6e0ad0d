"""``make test``: the pytest steps in order, with strict nbval (60 s windows) beside them.

nbval at the lab's 60 s windows spends most of its time waiting for windows to close, so it
runs in the background, in its own local cloud (``tools/run_nbval.py``), from the start, while
ruff and the pytest steps run one after another in the foreground. Its output is kept in a
file and printed when it ends. The exit status is 0 only when every step and nbval passed; one
line per failed part names it. Stopped with Ctrl-C, nbval is stopped too (by its PID; it stops
its own local cloud on the way out).

Usage: .venv/bin/python tools/run_tests.py [--window N]   (nbval's window, default 60)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def foreground_steps() -> list[tuple[str, list[str], dict[str, str]]]:
    """(name, command, extra environment) of each step that runs in the foreground, in order.

    Example
    -------
    >>> [name for name, _, _ in foreground_steps()]
    ['ruff', 'doctests of the package', 'doctests of the kit and tools', 'pytest tests']
    """
    ruff = str(Path(PY).with_name("ruff"))
    return [
        ("ruff", [ruff, "check", "wildrydes_helpers", "lambda", "tests", "benchmarks", "tools"],
         {}),
        ("doctests of the package", [PY, "-m", "pytest", "-q", "--doctest-modules",
                                     "wildrydes_helpers", "lambda"],
         {"AWS_DEFAULT_REGION": "us-east-1"}),
        ("doctests of the kit and tools", [PY, "-m", "pytest", "-q", "--doctest-modules",
                                           "tests/kit", "benchmarks", "tools/run_nbval.py",
                                           "tools/run_tests.py", "tools/quiet_jupyterlab.py"],
         {}),
        ("pytest tests", [PY, "-m", "pytest", "-q", "tests"], {}),
    ]


def nbval_command(window: int) -> list[str]:
    """The background nbval run.

    Example
    -------
    >>> nbval_command(60)[-2:]
    ['--window', '60']
    """
    return [PY, str(ROOT / "tools" / "run_nbval.py"), "--window", str(window)]


def main(argv: list[str] | None = None) -> int:
    """Run everything; 0 when all passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=60, help="nbval's window in seconds")
    args = parser.parse_args(argv)
    began = time.monotonic()
    failed: list[str] = []
    with tempfile.NamedTemporaryFile("w+b", prefix="wildrydes-nbval-", suffix=".log") as log:
        nbval = subprocess.Popen(nbval_command(args.window), cwd=ROOT, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT)
        print(f"[make test] strict nbval ({args.window} s windows) runs in the background "
              f"(pid {nbval.pid})", flush=True)
        try:
            for name, command, extra in foreground_steps():
                print(f"[make test] {name}", flush=True)
                if subprocess.call(command, cwd=ROOT, env={**os.environ, **extra}) != 0:
                    failed.append(name)
            print(f"[make test] foreground done in {time.monotonic() - began:.0f} s; "
                  "waiting for nbval", flush=True)
            code = nbval.wait()
        except BaseException:
            nbval.terminate()  # run_nbval stops its local cloud and producers on SIGTERM
            nbval.wait(30)
            raise
        log.seek(0)
        print(f"[make test] nbval's output ({args.window} s windows):", flush=True)
        sys.stdout.buffer.write(log.read())
        sys.stdout.flush()
    if code != 0:
        failed.append(f"strict nbval at {args.window} s windows")
    for name in failed:
        print(f"[make test] FAILED: {name}", flush=True)
    print(f"[make test] {'FAILED' if failed else 'passed'} in {time.monotonic() - began:.0f} s",
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
