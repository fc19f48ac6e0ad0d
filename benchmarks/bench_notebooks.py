"""How long the notebook suite takes under strict nbval, with 3-second windows.

The run uses its own temporary local cloud (tools/run_nbval.py), not ``endpoint``: the
notebooks must start from an empty cloud for their saved outputs to match.

Example
-------
>>> run("http://127.0.0.1:4599")        # doctest: +SKIP
{'notebook_suite_s': 52.3, 'notebook_cells': 67, 'notebook_suite_ok': True}
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_SECONDS = 3


def run(endpoint: str) -> dict:
    """Time one nbval run of every notebook in a subprocess; ``endpoint`` is not used.

    Example
    -------
    >>> run("http://127.0.0.1:4599")["notebook_suite_s"] < 120   # doctest: +SKIP
    True
    """
    env = dict(os.environ, WILDRYDES_WINDOW_SECONDS=str(WINDOW_SECONDS))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "run_nbval.py")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - started
    passed = re.search(r"(\d+) passed", proc.stdout)
    return {"notebook_suite_s": round(elapsed, 1),
            "notebook_cells": int(passed.group(1)) if passed else 0,
            "notebook_suite_ok": proc.returncode == 0}
