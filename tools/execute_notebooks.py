"""Execute the lab's notebooks in order and save them with their outputs (commit-ready).

Runs against a fresh local cloud of its own (temporary WILDRYDES_HOME, free port) with the
lab's own 60 s windows by default (``tools/run_nbval.py``'s ``NOTEBOOK_WINDOW_SECONDS``), so the
saved outputs are what a student sees and what ``tools/run_nbval.py`` compares against. Noisy
metadata (execution times, kernel versions, widget state) is stripped.

Usage: .venv/bin/python tools/execute_notebooks.py [--window 60] [NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

from wildrydes_helpers.run_lab import (
    NotebookFailed,
    clean_metadata,
    execute_notebook,
    find_notebooks,
    isolated_env,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # run_nbval, beside this file
from run_nbval import NOTEBOOK_WINDOW_SECONDS  # noqa: E402 - after the path it needs


def main(argv: list[str] | None = None) -> int:
    """Execute and save the notebooks; 1 at the first failing cell."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=NOTEBOOK_WINDOW_SECONDS,
                        help=f"window length in seconds (default {NOTEBOOK_WINDOW_SECONDS})")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    parser.add_argument("names", nargs="*", help="only these notebooks (e.g. 03_create_function)")
    args = parser.parse_args(argv)
    paths = find_notebooks(args.notebooks)
    with isolated_env(args.window):
        for path in paths:
            started = time.monotonic()
            try:
                nb = execute_notebook(path, timeout=900)
            except NotebookFailed as failed:
                print(f"FAILED  {failed}", file=sys.stderr)
                return 1
            if not args.names or path.stem in args.names:
                nbformat.write(clean_metadata(nb), path)
                print(f"saved  {path.stem}  ({time.monotonic() - started:.1f} s)")
            else:
                print(f"ran    {path.stem}  ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
