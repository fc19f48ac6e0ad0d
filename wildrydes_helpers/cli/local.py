"""``wildrydes local start|stop|status|serve``: the local cloud's lifecycle."""

from __future__ import annotations

import argparse

from ..config import load_config
from ..local import process as local_cloud


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port {text!r} is not a whole number") from None
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port {value} is out of range 1024..65535")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("local", help="start, stop or inspect the local cloud")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))
    for name, help_text in (("start", "start it in the background"),
                            ("serve", "run it in the foreground")):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--port", type=_port, default=None,
                         help="port on 127.0.0.1 (default: WILDRYDES_LOCAL_PORT or 4599)")
    actions.add_parser("stop", help="stop it (fine when it is not running)")
    actions.add_parser("status", help="exit 0 and print the endpoint when it runs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_config()
    if args.action == "start":
        print(local_cloud.start(cfg, args.port))
        return 0
    if args.action == "serve":
        local_cloud.serve(cfg, args.port)
        return 0
    if args.action == "stop":
        stopped = local_cloud.stop(cfg)
        print("stopped the local cloud" if stopped else "the local cloud was not running")
        return 0
    running = local_cloud.status(cfg)
    if running is None:
        print("the local cloud is not running")
        return 1
    print(running["endpoint"])
    return 0
