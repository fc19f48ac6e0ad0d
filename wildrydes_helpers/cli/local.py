"""``wildrydes local start|stop|status|serve|env``: the local cloud's lifecycle, and the
shell settings that point the AWS CLI and boto3 programs at it."""

from __future__ import annotations

import argparse
import shlex

from ..config import Config, load_config
from ..local import process as local_cloud
from ..session import local_credentials


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
                            ("serve", "run it in the foreground"),
                            ("env", "print export lines for a shell: "
                                    'eval "$(wildrydes local env)" (starts it if needed)')):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--port", type=_port, default=None,
                         help="port on 127.0.0.1 (default: WILDRYDES_LOCAL_PORT or 4599)")
    actions.add_parser("stop", help="stop it (fine when it is not running)")
    actions.add_parser("status", help="exit 0 and print the endpoint when it runs")
    parser.set_defaults(func=run)


def env_lines(cfg: Config, endpoint: str) -> list[str]:
    """The shell lines that point the AWS CLI and boto3 at the local cloud of ``cfg``'s home.

    Example
    -------
    >>> import tempfile
    >>> cfg = load_config({"WILDRYDES_HOME": tempfile.mkdtemp()})
    >>> lines = env_lines(cfg, "http://127.0.0.1:4599")
    >>> lines[0]
    'export AWS_ENDPOINT_URL=http://127.0.0.1:4599'
    >>> [line.split("=")[0] for line in lines[1:]]
    ['export AWS_ACCESS_KEY_ID', 'export AWS_SECRET_ACCESS_KEY', 'export AWS_DEFAULT_REGION', \
'export AWS_REGION', 'unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE']
    """
    home = local_credentials(cfg)
    values = (("AWS_ENDPOINT_URL", endpoint), ("AWS_ACCESS_KEY_ID", home.access_key_id),
              ("AWS_SECRET_ACCESS_KEY", home.secret_access_key),
              ("AWS_DEFAULT_REGION", cfg.region), ("AWS_REGION", cfg.region))
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values]
    # A session token or profile of the student's real account must not ride along.
    lines.append("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE")
    return lines


def run(args: argparse.Namespace) -> int:
    cfg = load_config()
    if args.action == "env":
        for line in env_lines(cfg, local_cloud.start(cfg, args.port)):
            print(line)
        return 0
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
