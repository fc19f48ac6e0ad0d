"""The ``wildrydes`` command: one subcommand module per job, beside this one in ``cli/``.

Example
-------
$ wildrydes local start
http://127.0.0.1:4599
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import WildRydesError
from . import class_clean_up, doctor, local, produce, run_lab

# Each module has ``register(subparsers)``, which adds its parser and sets ``func``.
COMMAND_MODULES = (local, doctor, produce, run_lab, class_clean_up)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line that says what to do, instead of argparse's usage dump.
        self.exit(2, f"wildrydes: {message}. See `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand.

    Example
    -------
    >>> build_parser().parse_args(["doctor"]).command
    'doctor'
    """
    parser = _Parser(prog="wildrydes", description="The Wild Rydes tumbling-window lab.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for a user error, with one clear line).

    Example
    -------
    >>> main(["local", "status"])   # doctest: +SKIP
    the local cloud is not running
    1
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except WildRydesError as exc:
        print(f"wildrydes: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wildrydes: interrupted", file=sys.stderr)
        return 130
