"""``wildrydes doctor``: one line per check, exit 1 when any check fails.

Example
-------
$ wildrydes doctor
ok   python 3.11.7
...
ok   local cloud http://127.0.0.1:4599 (started; `wildrydes local stop` stops it; 0 tables)
"""

from __future__ import annotations

import argparse

from ..config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``doctor`` subcommand.

    Example
    -------
    >>> from wildrydes_helpers.cli.main import build_parser
    >>> build_parser().parse_args(["doctor"]).command
    'doctor'
    """
    parser = subparsers.add_parser(
        "doctor", help="check Python, packages and the local cloud (or AWS access)",
        description="Check that the lab can run here. In local mode this starts the local "
                    "cloud if needed and leaves it running for the notebooks.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print every check's line; 0 when all pass, 1 otherwise.

    Example
    -------
    >>> run(argparse.Namespace())  # doctest: +SKIP
    0
    """
    from ..doctor import run_checks  # boto3 (under doctor) is heavy: only `doctor` pays

    # A bad setting is a user error like in every other command (exit 2, one line).
    cfg = load_config()
    results = run_checks(cfg)
    for result in results:
        print(result.line(), flush=True)
    return 0 if all(r.ok for r in results) else 1
