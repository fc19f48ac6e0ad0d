"""``wildrydes produce``: send unicorn records to the lab's stream (Ctrl-C stops cleanly).

Example
-------
$ wildrydes produce --name Shadowfax --name Rocinante --duration 200 --seed 7
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from typing import Any

from ..config import load_config


def _positive_float(flag: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{flag} {text} must be above 0")
        return value

    return parse


def _positive_int(flag: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a whole number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{flag} {value} must be 1 or more")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed {text!r} is not a whole number") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "produce", help="send unicorn records to the Kinesis stream",
        description="Send one JSON record per second per unicorn to the lab's stream.")
    parser.add_argument("--name", action="append", metavar="NAME",
                        help="a unicorn's name; repeat for several (default Shadowfax)")
    parser.add_argument("--stream", help="the stream (default: the lab's, e.g. wildrydes)")
    parser.add_argument("--rate", type=_positive_float("--rate"), default=1.0,
                        help="records per second per unicorn (default 1)")
    bound = parser.add_mutually_exclusive_group()
    bound.add_argument("--count", type=_positive_int("--count"),
                       help="records per unicorn, then stop")
    bound.add_argument("--duration", type=_positive_float("--duration"),
                       help="seconds, then stop (default: three windows and a bit)")
    parser.add_argument("--seed", type=_seed, help="makes every value reproducible")
    parser.add_argument("--ledger", help="where to keep the ledger (default <home>/ledger.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--align", action="store_true",
                        help="start at the next window boundary, so the first window is full")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..producer import DEFAULT_NAME, run_producer  # boto3 under it: only `produce` pays

    stop = threading.Event()
    # SIGTERM (stop_producer) stops as cleanly as Ctrl-C: the ledger is flushed.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        result = run_producer(
            names=args.name or [DEFAULT_NAME], rate=args.rate, count=args.count,
            duration=args.duration, seed=args.seed, stream=args.stream,
            ledger_path=args.ledger, progress=not args.quiet, config=load_config(),
            stop_event=stop, align=args.align)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(repr(result), file=sys.stderr if args.quiet else sys.stdout, flush=True)
    return 1 if result.failed else 0
