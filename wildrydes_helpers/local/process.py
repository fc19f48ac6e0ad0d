"""Start, stop, inspect and run the local cloud process.

The local cloud is a process of its own, shared by every notebook kernel and CLI call of
one ``WILDRYDES_HOME``. Its pid, port and boot id are kept in ``<home>/local-cloud.json``;
its log goes to ``<home>/local-cloud.log``, never to a notebook.

Example
-------
>>> from wildrydes_helpers.config import load_config
>>> endpoint = start(load_config())          # doctest: +SKIP
>>> endpoint                                 # doctest: +SKIP
'http://127.0.0.1:4599'
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from ..config import Config
from ..errors import LocalCloudError
from ..platforms import platform_support
from ..ports import LOOPBACK, free_port, port_is_open
from ..processes import is_alive, new_session_options, stop_tree
from ..statefile import read_state, write_state
from .context import LocalCloud
from .credentials import ensure_credentials
from .esm.service import EventSourceMappingService
from .lambda_.runtime import FunctionRuntime
from .moto_backends import apply_patches
from .router import LocalCloudApp

HOST = LOOPBACK
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 2.0


def state_path(cfg: Config) -> Path:
    """Where the running local cloud of this home records its pid, port and boot id.

    Example
    -------
    >>> from wildrydes_helpers.config import load_config
    >>> state_path(load_config()).name
    'local-cloud.json'
    """
    return cfg.home / "local-cloud.json"


def log_path(cfg: Config) -> Path:
    """Where the local cloud of this home writes its log.

    Example
    -------
    >>> from wildrydes_helpers.config import load_config
    >>> log_path(load_config()).name
    'local-cloud.log'
    """
    return cfg.home / "local-cloud.log"


def probe(port: int, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any] | None:
    """The status of a local cloud answering on ``port``, or None if none answers there.

    Example
    -------
    >>> from wildrydes_helpers.ports import free_port
    >>> probe(free_port()) is None
    True
    """
    try:
        with urllib.request.urlopen(
            f"http://{HOST}:{port}/_wildrydes/status", timeout=timeout
        ) as resp:
            data = json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if isinstance(data, dict) and data.get("service") == "wildrydes-local-cloud":
        return data
    return None


def _read_state(cfg: Config) -> dict[str, Any] | None:
    return read_state(state_path(cfg))


def status(cfg: Config) -> dict[str, Any] | None:
    """The running local cloud of this home (pid, port, endpoint, boot id), or None.

    Example
    -------
    >>> status(load_config())  # doctest: +SKIP
    {'pid': 4242, 'port': 4599, 'endpoint': 'http://127.0.0.1:4599', ...}
    """
    state = _read_state(cfg)
    if not state:
        return None
    pid, port = int(state.get("pid", 0)), int(state.get("port", 0))
    if pid <= 0 or not is_alive(pid):
        return None
    live = probe(port)
    if live is None or live.get("boot_id") != state.get("boot_id"):
        return None
    return state


def start(cfg: Config, port: int | None = None) -> str:
    """Start the local cloud in the background (or reuse a running one); return its endpoint.

    Example
    -------
    >>> start(load_config())  # doctest: +SKIP
    'http://127.0.0.1:4599'
    """
    support = platform_support("local")
    if not support.supported:
        raise LocalCloudError(support.detail)
    fixed = port is not None or cfg.local_port_fixed
    port = cfg.local_port if port is None else port
    running = status(cfg)
    if running is not None:
        if fixed and running["port"] != port:
            raise LocalCloudError(
                f"The local cloud already runs on port {running['port']}, not {port}. Use it "
                f"(export WILDRYDES_LOCAL_PORT={running['port']}) or stop it first with "
                "`wildrydes local stop`."
            )
        return running["endpoint"]
    other = probe(port)
    if other is not None and fixed:
        return str(other["endpoint"])  # a local cloud of another home on the port asked for
    if other is not None or port_is_open(port):
        if fixed:
            raise LocalCloudError(
                f"Port {port} on 127.0.0.1 is already used by another program, so the local "
                f"cloud cannot start there. Pick a free port: `export WILDRYDES_LOCAL_PORT="
                f"{port + 1}` (or `wildrydes local start --port {port + 1}`), then try again."
            )
        # The default port is taken (another user's local cloud on a shared JupyterHub, say):
        # this home takes a free port; its state file tells every kernel of the home.
        port = free_port()
    cfg.home.mkdir(parents=True, exist_ok=True)
    log = open(log_path(cfg), "ab")  # noqa: SIM115 - handed to the child process
    env = dict(os.environ, WILDRYDES_HOME=str(cfg.home))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wildrydes_helpers", "local", "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            close_fds=True, **new_session_options(),
        )
    finally:
        log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise LocalCloudError(
                f"The local cloud stopped while starting (exit code {code}). Its log, "
                f"{log_path(cfg)}, ends with:\n{_log_tail(cfg)}"
            )
        state = _read_state(cfg)
        if state and state.get("pid") == proc.pid and probe(port, timeout=0.5):
            return str(state["endpoint"])
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise LocalCloudError(
        f"The local cloud did not answer within {START_TIMEOUT_S:.0f} s. See {log_path(cfg)}."
    )


def stop(cfg: Config) -> bool:
    """Stop this home's local cloud; True if one was running. Never fails when none runs.

    Example
    -------
    >>> stop(load_config())  # doctest: +SKIP
    True
    """
    state = _read_state(cfg)
    running = status(cfg)
    if running is None:
        if state is not None:
            with contextlib.suppress(OSError):
                state_path(cfg).unlink()
        return False
    # Asked first, killed after STOP_TIMEOUT_S, with its function workers.
    stop_tree(int(running["pid"]), timeout=STOP_TIMEOUT_S)
    with contextlib.suppress(OSError):
        state_path(cfg).unlink()
    return True


def _log_tail(cfg: Config, lines: int = 15) -> str:
    try:
        return "\n".join(log_path(cfg).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def serve(cfg: Config, port: int | None = None) -> None:
    """Run the local cloud in the foreground until SIGTERM or Ctrl-C.

    Example
    -------
    >>> serve(load_config(), port=4599)  # doctest: +SKIP
    wildrydes local cloud listening on http://127.0.0.1:4599 (pid 4242)
    """
    apply_patches()
    # Anything inside the local cloud that speaks boto3 (the on-failure destinations) talks to
    # the local cloud itself, with the home's credentials, never a user's real ones.
    credentials = ensure_credentials(cfg.home)
    for var, value in (("AWS_ACCESS_KEY_ID", credentials.access_key_id),
                       ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key)):
        os.environ[var] = value
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    port = cfg.local_port if port is None else port
    cloud = LocalCloud(port=port, credentials=credentials)
    app = LocalCloudApp(cloud)
    try:
        server = make_server(HOST, port, app, threaded=True)
    except OSError as exc:
        print(f"wildrydes local cloud: cannot listen on {HOST}:{port}: {exc}", flush=True)
        raise SystemExit(3) from None
    cloud.port = server.server_port
    os.environ["AWS_ENDPOINT_URL"] = cloud.endpoint
    os.environ.setdefault("AWS_DEFAULT_REGION", cfg.region)
    runtime, esm = FunctionRuntime(cloud), EventSourceMappingService(cloud)
    cloud.runtime, cloud.esm = runtime, esm

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    esm.start()
    cfg.home.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "port": cloud.port, "endpoint": cloud.endpoint,
             "boot_id": cloud.boot_id, "started_at": cloud.started_at,
             "log": str(log_path(cfg))}
    write_state(state_path(cfg), state)
    print(f"wildrydes local cloud listening on {cloud.endpoint} (pid {os.getpid()})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        print("wildrydes local cloud stopping", flush=True)
        esm.shutdown()
        runtime.shutdown()
        server.shutdown()
        current = _read_state(cfg)
        if current and current.get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                state_path(cfg).unlink()
        print("wildrydes local cloud stopped", flush=True)
