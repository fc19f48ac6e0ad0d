"""``wildrydes run-lab [--out DIR] [--notebooks DIR] [--slowest N]``: every notebook, headless,
in order; with ``--slowest N`` the N code cells that took longest are listed at the end."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_config
from ..errors import WildRydesError
from ..local import process as local_cloud

DEFAULT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _timeout(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout {text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--timeout {value} must be at least 1 second")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--slowest {text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--slowest {value} must be 0 or more")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run-lab`` subcommand.

    Example
    -------
    >>> from wildrydes_helpers.cli.main import build_parser
    >>> build_parser().parse_args(["run-lab", "--out", "/tmp/lab"]).out
    PosixPath('/tmp/lab')
    """
    parser = subparsers.add_parser(
        "run-lab", help="run every notebook headless, in order, and save the results")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the executed notebooks and their plots (PNG)")
    parser.add_argument("--notebooks", type=Path, default=DEFAULT_NOTEBOOKS,
                        help="folder of the notebooks to run (default: the lab's notebooks/)")
    parser.add_argument("--timeout", type=_timeout, default=None,
                        help="seconds a single cell may take (default 900)")
    parser.add_argument("--slowest", type=_count, default=0, metavar="N",
                        help="list the N code cells that took longest, at the end")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the lab; 0 when every notebook passed, 1 at the first failing cell."""
    # nbformat and nbclient (under run_lab) are heavy: only `run-lab` pays for them.
    from ..run_lab import CELL_TIMEOUT_S, run_lab, stop_lab_processes

    cfg = load_config()
    if not args.notebooks.is_dir():
        raise WildRydesError(f"--notebooks {args.notebooks} is not a folder.")
    started_cloud = cfg.is_local and local_cloud.status(cfg) is None

    def start_cloud() -> None:
        # Started once, while the first kernels start, so that every notebook kernel shares
        # it; stopped at the end.
        if started_cloud:
            local_cloud.start(cfg)

    try:
        result = run_lab(args.notebooks, args.out, timeout=args.timeout or CELL_TIMEOUT_S,
                         progress=not args.no_progress, before_first=start_cloud)
    finally:
        if started_cloud:
            stop_lab_processes(cfg)
            local_cloud.stop(cfg)
    if result.failure is not None:
        failed = result.failure
        print(f"FAILED  {failed.notebook}  (code cell {failed.cell} of {failed.total}): "
              f"{failed.error}")
        print(f"wildrydes run-lab: stopped at {failed.notebook}; fix the cause named above and "
              "run it again.", file=sys.stderr)
        return 1
    if args.slowest:
        print(f"the {args.slowest} slowest code cells:")
        for cell in result.slowest(args.slowest):
            print(cell.line())
    if args.out is not None:
        print(f"executed notebooks and plots written to {args.out}")
    print(f"reconciliation in {result.verdict}" if result.verdict else
          "reconciliation: no verdict found in the outputs (did 05_query run?)")
    return 0
