"""``wildrydes class-clean-up``: the teacher's clean-up of every student's lab resources.

Example
-------
$ WILDRYDES_BACKEND=aws wildrydes class-clean-up --all --dry-run
prefix s01: would delete function s01-WildRydesAggregator, ...
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``class-clean-up`` subcommand.

    Example
    -------
    >>> from wildrydes_helpers.cli.main import build_parser
    >>> args = build_parser().parse_args(["class-clean-up", "--prefix", "s01", "--dry-run"])
    >>> args.prefix, args.dry_run
    (['s01'], True)
    """
    parser = subparsers.add_parser(
        "class-clean-up", help="teacher: delete every student's lab resources (tagged only)",
        description="Delete the lab's resources of the given prefixes (or of every prefix "
                    "found) in the account of WILDRYDES_BACKEND. Only resources carrying the "
                    "lab's tags for their prefix are deleted; anything else is named and left "
                    "alone. Try --dry-run first.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--prefix", action="append", metavar="PREFIX",
                       help="a student's WILDRYDES_PREFIX (repeat for several; '' for none)")
    which.add_argument("--all", action="store_true",
                       help="every prefix found on resources carrying the lab's tags")
    parser.add_argument("--dry-run", action="store_true",
                        help="only print what would be deleted")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per prefix (and per resource left alone); 0 when done.

    Example
    -------
    >>> run(argparse.Namespace(prefix=["s01"], all=False, dry_run=True))  # doctest: +SKIP
    prefix s01: would delete nothing
    0
    """
    from ..class_cleanup import class_clean_up  # boto3 is heavy: only this command pays

    result = class_clean_up(None if args.all else args.prefix, dry_run=args.dry_run)
    print(result.report(), flush=True)
    return 0
