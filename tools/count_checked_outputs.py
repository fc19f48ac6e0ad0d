"""Count the notebook outputs that nbval compares (not tagged ignore-output or skip).

Usage: .venv/bin/python tools/count_checked_outputs.py [--min 0.6] [NOTEBOOK ...]
Exit code 1 when the share of compared outputs is below ``--min``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat

from wildrydes_helpers.run_lab import checked_outputs, find_notebooks

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def main(argv: list[str] | None = None) -> int:
    """Print per notebook and in total how many outputs are compared."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=0.6, help="lowest acceptable share")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or find_notebooks(NOTEBOOKS)
    all_checked = all_total = 0
    for path in paths:
        checked, total = checked_outputs(nbformat.read(path, as_version=4))
        all_checked, all_total = all_checked + checked, all_total + total
        print(f"{path.stem:28s} {checked:3d} of {total:3d} outputs compared")
    share = all_checked / all_total if all_total else 0.0
    print(f"{'total':28s} {all_checked:3d} of {all_total:3d} outputs compared ({share:.0%})")
    return 0 if share >= args.min else 1


if __name__ == "__main__":
    raise SystemExit(main())
