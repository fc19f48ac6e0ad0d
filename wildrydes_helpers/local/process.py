"""Start, stop, inspect and run the local cloud process.

The local cloud is a process of its own, shared by every notebook kernel and CLI call of
one ``WILDRYDES_HOME``. Its pid, port and boot id are kept in ``<home>/local-cloud.json``;
its log goes to ``<home>/local-cloud.log``, never to a notebook. The home is ``0700`` and
every file in it ``0600``.

A home takes a running local cloud as its own only when all three hold (``status``):

- the pid in its state file runs as this user, with the local cloud's command line;
- the local cloud on the recorded port proves it knows the home's secret key: it answers a
  fresh challenge with an HMAC of its boot id and pid (``ownership.py``);
- that boot id and pid are the ones in the state file.

So a second home (another user, or another ``WILDRYDES_HOME``) is never handed a local
cloud that is not its own. When ``WILDRYDES_LOCAL_PORT`` is unset and the default port is
taken, the home picks a free port and records it (``<home>/local-port.json``), and uses it
again next time; a port the student named is never shared: ``start`` stops with an error.

The local cloud starts with an allow-listed environment (``server_environment``): none of
the student's AWS keys or other secrets reach it, or its functions. Its own boto3 (if any
part of it speaks AWS) uses the home's credentials.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from ..config import Config
from ..errors import LocalCloudError
from ..platforms import platform_support
from ..ports import LOOPBACK, free_port, port_is_open
from ..processes import POSIX, environment, is_ours, new_session_options, stop_tree
from ..statefile import (
    int_field,
    open_private_append,
    private_dir,
    read_state,
    str_field,
    write_state,
)
from .context import LocalCloud
from .credentials import HomeCredentials, ensure_credentials, read_credentials
from .esm.service import EventSourceMappingService
from .http_server import LocalCloudRequestHandler
from .lambda_.runtime import FunctionRuntime
from .memory import give_back_free_memory
from .moto_backends import apply_patches
from .ownership import (
    CHALLENGE_HEADER,
    PID_HEADER,
    PROOF_HEADER,
    StatusProof,
    new_challenge,
    verify,
)
from .router import LocalCloudApp

HOST = LOOPBACK
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 2.0
# Every 5 s (10 beats of the main loop's 0.5 s) the C heap's free pages go back to the system:
# a burst of requests leaves glibc holding pages the local cloud no longer uses (memory.py).
TRIM_EVERY_BEATS = 10
# What the local cloud's command line holds (``python -m wildrydes_helpers local serve``):
# a recycled pid running anything else is never taken for it, nor signalled.
SERVER_MARKERS = ("wildrydes", "local", "serve")

# What the local cloud keeps of the environment it is started from: what Python and the
# platform need, and the lab's own settings. Nothing else: AWS keys, tokens and whatever other
# secret the student's shell holds never reach the local cloud, nor (through it) a function,
# which could read them from /proc.
KEPT_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "LD_LIBRARY_PATH",
    # Windows: Python and its sockets need these.
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA",
    "LOCALAPPDATA", "PROGRAMDATA", "NUMBER_OF_PROCESSORS",
})
KEPT_PREFIXES = ("LC_", "PYTHON", "WILDRYDES_")
# Set by the lab itself in the local cloud's environment (not secrets).
SET_NAMES = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION"})
# Marks a local cloud that already runs with the allow-listed environment (no second exec).
CLEAN_ENV_MARK = "WILDRYDES_SERVER_ENV"


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


def port_record_path(cfg: Config) -> Path:
    """Where a home records the free port it chose when the default one was taken.

    Example
    -------
    >>> from wildrydes_helpers.config import load_config
    >>> port_record_path(load_config()).name
    'local-port.json'
    """
    return cfg.home / "local-port.json"


def is_kept(name: str) -> bool:
    """True when the local cloud keeps the environment variable ``name`` (see KEPT_NAMES).

    Example
    -------
    >>> is_kept("PATH"), is_kept("LC_ALL"), is_kept("WILDRYDES_PREFIX")
    (True, True, True)
    >>> is_kept("AWS_SECRET_ACCESS_KEY"), is_kept("GITHUB_TOKEN")
    (False, False)
    """
    key = name.upper()
    return key in KEPT_NAMES or key.startswith(KEPT_PREFIXES)


def server_environment(source: Mapping[str, str], cfg: Config) -> dict[str, str]:
    """The environment the local cloud runs with: ``source`` allow-listed, plus the lab's own.

    Example
    -------
    >>> from wildrydes_helpers.config import Config
    >>> env = server_environment({"PATH": "/bin", "AWS_SECRET_ACCESS_KEY": "real",
    ...                           "AWS_PROFILE": "work", "GITHUB_TOKEN": "t"},
    ...                          Config(home=Path("/tmp/h")))
    >>> sorted(env)
    ['AWS_DEFAULT_REGION', 'AWS_REGION', 'PATH', 'WILDRYDES_HOME', 'WILDRYDES_SERVER_ENV']
    """
    env = {name: value for name, value in source.items() if is_kept(name)}
    env.update({"WILDRYDES_HOME": str(cfg.home), CLEAN_ENV_MARK: "1",
                "AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region})
    return env


def foreign_names(source: Mapping[str, str]) -> list[str]:
    """The names in ``source`` the local cloud must not inherit.

    Example
    -------
    >>> foreign_names({"PATH": "/bin", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x"})
    ['AWS_ACCESS_KEY_ID']
    """
    return sorted(name for name in source if not is_kept(name) and name not in SET_NAMES)


def probe(port: int, timeout: float = PROBE_TIMEOUT_S,
          credentials: HomeCredentials | None = None) -> dict[str, Any] | None:
    """The status of a local cloud answering on ``port``, or None if none answers there.

    With ``credentials`` the local cloud is challenged, and the answer's ``proven`` says
    whether it proved it knows the home's secret key (and its ``pid`` which process it is).

    Example
    -------
    >>> from wildrydes_helpers.ports import free_port
    >>> probe(free_port()) is None
    True
    """
    challenge = new_challenge()
    headers = {CHALLENGE_HEADER: challenge} if credentials is not None else {}
    request = urllib.request.Request(f"http://{HOST}:{port}/_wildrydes/status",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            data = json.loads(resp.read())
            proof, pid_text = resp.headers.get(PROOF_HEADER), resp.headers.get(PID_HEADER)
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if not (isinstance(data, dict) and data.get("service") == "wildrydes-local-cloud"):
        return None
    if credentials is not None:
        pid = int(pid_text) if pid_text and pid_text.isdigit() else 0
        boot_id = data.get("boot_id")
        data["pid"] = pid
        data["proven"] = bool(proof and pid and isinstance(boot_id, str)
                              and verify(credentials, boot_id, pid, challenge, proof))
    return data


def _read_state(cfg: Config) -> dict[str, Any] | None:
    """The state file if it has every field with the right type; else None (stale)."""
    state = read_state(state_path(cfg))
    if state is None:
        return None
    if int_field(state, "pid") is None or int_field(state, "port", 1, 65535) is None \
            or str_field(state, "boot_id") is None or str_field(state, "endpoint") is None:
        return None
    return state


def _is_server(pid: int) -> bool:
    """True when ``pid`` runs as this user with the local cloud's command line."""
    return is_ours(pid, *SERVER_MARKERS)


def status(cfg: Config) -> dict[str, Any] | None:
    """The running local cloud of this home (pid, port, endpoint, boot id), or None.

    Only a local cloud that proves it is this home's (see the module docstring) is returned;
    a state file that is damaged or not the lab's reads as "not running".

    Example
    -------
    >>> status(load_config())  # doctest: +SKIP
    {'pid': 4242, 'port': 4599, 'endpoint': 'http://127.0.0.1:4599', ...}
    """
    state = _read_state(cfg)
    if state is None or not _is_server(state["pid"]):
        return None
    credentials = read_credentials(cfg.home)
    if credentials is None:
        return None
    live = probe(state["port"], credentials=credentials)
    if live is None or not live["proven"] or live.get("boot_id") != state["boot_id"] \
            or live["pid"] != state["pid"]:
        return None
    return state


def _recorded_port(cfg: Config) -> int | None:
    record = read_state(port_record_path(cfg))
    return None if record is None else int_field(record, "port", 1024, 65535)


def _adopt_own(cfg: Config, port: int, live: dict[str, Any]) -> str | None:
    """A local cloud of this very home whose state file was lost: record it again."""
    pid, boot_id = live.get("pid", 0), live.get("boot_id")
    if not (live.get("proven") and isinstance(boot_id, str) and _is_server(pid)):
        return None
    endpoint = f"http://{HOST}:{port}"
    write_state(state_path(cfg), {"pid": pid, "port": port, "endpoint": endpoint,
                                  "boot_id": boot_id, "started_at": live.get("started_at"),
                                  "log": str(log_path(cfg))})
    return endpoint


def _choose_port(cfg: Config, port: int, fixed: bool,
                 credentials: HomeCredentials) -> tuple[int, str | None]:
    """(port to start on, or the endpoint of this home's own cloud already on it)."""
    if not fixed:
        recorded = _recorded_port(cfg)
        if recorded is not None and not port_is_open(recorded):
            port = recorded  # the port this home chose before: terminals already point there
    other = probe(port, credentials=credentials)
    if other is not None:
        adopted = _adopt_own(cfg, port, other)
        if adopted is not None:
            return port, adopted
    if other is None and not port_is_open(port):
        return port, None
    if fixed:
        if other is not None:
            raise LocalCloudError(
                f"Port {port} on 127.0.0.1 is used by another local cloud: another user's, "
                "or one of another WILDRYDES_HOME. A local cloud is never shared. Pick a free "
                f"port: `export WILDRYDES_LOCAL_PORT={port + 1}` (or `wildrydes local start "
                f"--port {port + 1}`), or unset WILDRYDES_LOCAL_PORT and the lab picks one.")
        raise LocalCloudError(
            f"Port {port} on 127.0.0.1 is already used by another program, so the local "
            f"cloud cannot start there. Pick a free port: `export WILDRYDES_LOCAL_PORT="
            f"{port + 1}` (or `wildrydes local start --port {port + 1}`), then try again. If "
            "it is this home's own local cloud that stopped answering, `wildrydes local "
            "stop` stops it."
        )
    # The default port is taken (another user's local cloud on a shared JupyterHub, say): this
    # home takes a free port and records it; its state file tells every kernel of the home.
    port = free_port()
    write_state(port_record_path(cfg), {"port": port})
    return port, None


def start(cfg: Config, port: int | None = None) -> str:
    """Start the local cloud in the background (or reuse this home's); return its endpoint.

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
        return str(running["endpoint"])
    private_dir(cfg.home)
    # Made here, before the server: the proof it gives is checked against this key.
    credentials = ensure_credentials(cfg.home)
    port, own = _choose_port(cfg, port, fixed, credentials)
    if own is not None:
        return own
    with open_private_append(log_path(cfg)) as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wildrydes_helpers", "local", "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=server_environment(os.environ, cfg), close_fds=True,
            **new_session_options(),
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise LocalCloudError(
                f"The local cloud stopped while starting (exit code {code}). Its log, "
                f"{log_path(cfg)}, ends with:\n{_log_tail(cfg)}"
            )
        state = _read_state(cfg)
        if state and state["pid"] == proc.pid and status(cfg) is not None:
            return str(state["endpoint"])
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise LocalCloudError(
        f"The local cloud did not answer within {START_TIMEOUT_S:.0f} s. See {log_path(cfg)}."
    )


def _serves_this_home(pid: int, cfg: Config) -> bool:
    """True when ``pid`` is a local cloud of this user started for this home."""
    if not _is_server(pid):
        return False
    home = environment(pid).get("WILDRYDES_HOME")
    return home is not None and Path(home).expanduser().resolve() == cfg.home.resolve()


def stop(cfg: Config) -> bool:
    """Stop this home's local cloud; True if one was running. Never fails when none runs.

    A local cloud that no longer answers (hung) is stopped too, when its recorded pid is
    still this user's local cloud of this home.

    Example
    -------
    >>> stop(load_config())  # doctest: +SKIP
    True
    """
    running = status(cfg)
    if running is None:
        state = _read_state(cfg)
        if state is not None and _serves_this_home(state["pid"], cfg):
            running = state
    if running is None:
        with contextlib.suppress(OSError):
            state_path(cfg).unlink()  # stale, damaged or not the lab's: gone
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


def _clean_environment(cfg: Config, port: int) -> None:
    """Run with the allow-listed environment only (see ``server_environment``).

    On POSIX the process execs itself again with it, since what a process was started with
    stays readable in /proc/<pid>/environ whatever it changes later. ``start`` passes the
    clean environment already, so only a ``wildrydes local serve`` typed in a shell execs.
    """
    if not foreign_names(os.environ):
        return
    clean = server_environment(os.environ, cfg)
    if POSIX and os.environ.get(CLEAN_ENV_MARK) != "1":
        sys.stdout.flush()
        args = [sys.executable, "-m", "wildrydes_helpers", "local", "serve", "--port", str(port)]
        os.execve(sys.executable, args, clean)
    os.environ.clear()
    os.environ.update(clean)


def _sdk_environment(cfg: Config, credentials: HomeCredentials) -> None:
    """The local cloud's own boto3 talks to itself, with the home's key pair, never a file."""
    for name in [n for n in os.environ if n.upper().startswith("AWS_")]:
        del os.environ[name]
    os.environ.update({
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region,
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })


def serve(cfg: Config, port: int | None = None) -> None:
    """Run the local cloud in the foreground until SIGTERM or Ctrl-C.

    Example
    -------
    >>> serve(load_config(), port=4599)  # doctest: +SKIP
    wildrydes local cloud listening on http://127.0.0.1:4599 (pid 4242)
    """
    port = cfg.local_port if port is None else port
    _clean_environment(cfg, port)
    if POSIX:
        # Whatever the local cloud or its functions create (the functions' unzipped code under
        # the home, say) is the home owner's alone.
        os.umask(0o077)
    private_dir(cfg.home)
    credentials = ensure_credentials(cfg.home)
    cloud = LocalCloud(port=port, credentials=credentials)
    _sdk_environment(cfg, credentials)
    apply_patches()
    app = StatusProof(LocalCloudApp(cloud), credentials, lambda: cloud.boot_id)
    try:
        server = make_server(HOST, port, app, threaded=True,
                             request_handler=LocalCloudRequestHandler)
    except OSError as exc:
        print(f"wildrydes local cloud: cannot listen on {HOST}:{port}: {exc}", flush=True)
        raise SystemExit(3) from None
    cloud.port = server.server_port
    os.environ["AWS_ENDPOINT_URL"] = cloud.endpoint
    runtime, esm = FunctionRuntime(cloud), EventSourceMappingService(cloud)
    cloud.runtime, cloud.esm = runtime, esm

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    esm.start()
    state = {"pid": os.getpid(), "port": cloud.port, "endpoint": cloud.endpoint,
             "boot_id": cloud.boot_id, "started_at": cloud.started_at,
             "log": str(log_path(cfg))}
    write_state(state_path(cfg), state)
    print(f"wildrydes local cloud listening on {cloud.endpoint} (pid {os.getpid()})", flush=True)
    try:
        beats = 0
        while not stopping.wait(0.5):
            beats += 1
            if beats % TRIM_EVERY_BEATS == 0:
                give_back_free_memory()
    finally:
        print("wildrydes local cloud stopping", flush=True)
        esm.shutdown()
        runtime.shutdown()
        server.shutdown()
        current = _read_state(cfg)
        if current and current["pid"] == os.getpid():
            with contextlib.suppress(OSError):
                state_path(cfg).unlink()
        print("wildrydes local cloud stopped", flush=True)
