"""The notebooks' two timings: the teacher's rehearsal and the strict nbval suite.

- ``rehearsal_s``: the wall time of ``WILDRYDES_WINDOW_SECONDS=3 wildrydes run-lab`` over
  every notebook, as a teacher runs it the day before class, in a home of its own (a temporary
  WILDRYDES_HOME and a free port, so it never meets another local cloud). Its per-notebook
  seconds and slowest cells (``--slowest``) come along, for whoever trims the notebooks.
- ``notebook_suite_s``: ``tools/run_nbval.py`` as ``make test`` runs it (strict nbval, the
  window the saved outputs were made with, its own temporary local cloud);
  ``notebook_suite_ok`` says whether nbval passed.

Example
-------
>>> run("http://127.0.0.1:4599")        # doctest: +SKIP
{'rehearsal_s': 28.1, 'notebook_suite_s': 412.3, 'notebook_suite_ok': True, ...}
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from wildrydes_helpers.ports import free_port
from wildrydes_helpers.run_lab import lab_environment

from .common import progress

ROOT = Path(__file__).resolve().parents[1]
REHEARSAL_WINDOW_S = 3
SLOWEST = 10
FIGURES = ("rehearsal_s", "notebook_suite_s", "notebook_suite_ok")
_NOTEBOOK_LINE = re.compile(r"^ok  (\S+)  \(([0-9.]+) s")
_CELL_LINE = re.compile(r"^\s*([0-9.]+) s  (\S+)  cell (\d+)  (.*)$")


def parse_rehearsal(stdout: str) -> dict[str, Any]:
    """Per-notebook seconds and the slowest cells from ``run-lab --slowest``'s output.

    Example
    -------
    >>> parse_rehearsal("ok  04_monitor  (12.5 s, 1 plot)\\n"
    ...                 "  8.6 s  04_monitor  cell 3  wait_for_producer()\\n")
    {'rehearsal_notebooks_s': {'04_monitor': 12.5}, 'rehearsal_slowest_cells': \
['8.6 s 04_monitor cell 3: wait_for_producer()']}
    """
    notebooks: dict[str, float] = {}
    cells: list[str] = []
    for line in stdout.splitlines():
        if found := _NOTEBOOK_LINE.match(line):
            notebooks[found.group(1)] = float(found.group(2))
        elif found := _CELL_LINE.match(line):
            seconds, name, number, first = found.groups()
            cells.append(f"{seconds} s {name} cell {number}: {first}")
    return {"rehearsal_notebooks_s": notebooks, "rehearsal_slowest_cells": cells}


def rehearsal() -> dict[str, Any]:
    """Time ``wildrydes run-lab`` with 3 s windows in a home of its own."""
    home = Path(tempfile.mkdtemp(prefix="wildrydes-bench-rehearsal-"))
    env = lab_environment(os.environ, home, free_port(), REHEARSAL_WINDOW_S)
    wildrydes = Path(sys.executable).with_name("wildrydes")
    try:
        began = time.monotonic()
        proc = subprocess.run([str(wildrydes), "run-lab", "--no-progress",
                               "--slowest", str(SLOWEST)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        elapsed = time.monotonic() - began
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"wildrydes run-lab failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    figures = {"rehearsal_s": round(elapsed, 1), **parse_rehearsal(proc.stdout)}
    progress(f"bench_notebooks: rehearsal {figures}")
    return figures


def notebook_suite() -> dict[str, Any]:
    """Time ``tools/run_nbval.py`` (its default window: the saved outputs')."""
    began = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "run_nbval.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - began
    passed = re.search(r"(\d+) passed", proc.stdout)
    failed = re.search(r"(\d+) failed", proc.stdout)
    window = re.search(r"window: (\d+) s", proc.stdout)
    return {"notebook_suite_s": round(elapsed, 1),
            "notebook_suite_window_s": int(window.group(1)) if window else None,
            "notebook_cells": int(passed.group(1)) if passed else 0,
            "notebook_cells_failed": int(failed.group(1)) if failed else 0,
            "notebook_suite_ok": proc.returncode == 0}


def run(endpoint: str) -> dict[str, Any]:
    """Both timings; ``endpoint`` is not used (each run has its own local cloud).

    Example
    -------
    >>> run("http://127.0.0.1:4599")["rehearsal_s"] <= 30   # doctest: +SKIP
    True
    """
    return {**rehearsal(), **notebook_suite()}
