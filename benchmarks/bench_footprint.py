"""How much disk a student's lab install takes: ``lab_venv_mb``.

A fresh virtual environment in a temporary folder, made by ``make lab``'s own install recipe
(``make install VENV=...``: the lab's dependencies, not the test tools), measured with its
files' disk usage as ``du`` counts it, then removed. pip's own download cache is used as on a
student's machine; it lives outside the venv.

The recipe installs without compiling every module, then writes the bytecode of what the lab
imports (``tools/compile_lab_imports.py``); Python compiles any other module the first time
it is imported. So the venv also grows with use: ``lab_venv_after_lab_mb`` is its size after
the whole lab ran in it once (``wildrydes run-lab`` with 3 s windows, bytecode writing on).

Example
-------
>>> run("unused")["lab_venv_mb"] <= 500   # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from wildrydes_helpers.ports import free_port
from wildrydes_helpers.run_lab import lab_environment

from .common import progress

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("lab_venv_mb",)
_MB = 1024 * 1024


def disk_usage_mb(folder: Path) -> float:
    """Disk usage of every file under ``folder`` in MB, a hard-linked file counted once.

    Example
    -------
    >>> disk_usage_mb(Path("/nonexistent"))
    0.0
    """
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            stat = os.lstat(os.path.join(dirpath, name))
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_blocks * 512
    return round(total / _MB, 1)


def lab_install(venv: Path) -> None:
    """``make lab``'s install into ``venv``: a new venv and the lab's package, nothing else."""
    made = subprocess.run(["make", "--no-print-directory", "install", f"VENV={venv}",
                           f"PYTHON={sys.executable}"], cwd=ROOT, capture_output=True, text=True)
    if made.returncode != 0:  # pip's warnings are noise on success, the cause on failure
        raise RuntimeError(f"the lab's install failed:\n{made.stdout[-3000:]}"
                           f"{made.stderr[-3000:]}")


def run_the_lab_in(venv: Path) -> None:
    """Every notebook once with ``venv``'s Python, 3 s windows, bytecode writing on."""
    home = Path(tempfile.mkdtemp(prefix="wildrydes-bench-venv-home-"))
    env = lab_environment(os.environ, home, free_port(), 3)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    try:
        done = subprocess.run([str(venv / "bin" / "wildrydes"), "run-lab", "--no-progress"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"run-lab failed in the fresh venv:\n{done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")


def run(endpoint: str) -> dict[str, Any]:
    """The size of a fresh lab-only venv; ``endpoint`` is not used.

    Example
    -------
    >>> run("unused")["lab_venv_packages"] > 10   # doctest: +SKIP
    True
    """
    with tempfile.TemporaryDirectory(prefix="wildrydes-bench-venv-") as tmp:
        venv = Path(tmp) / ".venv"
        lab_install(venv)
        size = disk_usage_mb(venv)
        # The bytecode compile_lab_imports.py wrote; how much of the size that is.
        bytecode = round(sum(disk_usage_mb(d) for d in venv.rglob("__pycache__")), 1)
        packages = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list",
                                   "--format=json"], check=True, capture_output=True,
                                  text=True).stdout
        names = {p["name"].lower() for p in json.loads(packages)}
        test_tools = sorted(names & {"playwright", "awscli", "ruff", "pytest", "nbval"})
        biggest = sorted(((disk_usage_mb(p), p.name) for p in
                          (venv / "lib").glob("python*/site-packages/*") if p.is_dir()),
                         reverse=True)[:8]
        run_the_lab_in(venv)
        after = disk_usage_mb(venv)
        shutil.rmtree(venv, ignore_errors=True)
    progress(f"bench_footprint: {size} MB, {after} MB after the lab ran; biggest {biggest}")
    return {"lab_venv_mb": size, "lab_venv_after_lab_mb": after, "lab_venv_bytecode_mb": bytecode,
            "lab_venv_packages": len(names),
            "lab_venv_test_tools": test_tools,
            "lab_venv_biggest_mb": {name: mb for mb, name in biggest}}
