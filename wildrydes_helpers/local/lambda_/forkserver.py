"""The server's side of the zygote (zygote.py), and the handles of worker processes.

A worker is either forked by the local cloud's zygote, which has already imported boto3 and
botocore (``ForkServer.spawn`` -> ``ForkedProcess``), or, where fork is unavailable, started
as a new interpreter (``spawn_worker`` -> ``SpawnedProcess``). Both handles answer like
``subprocess.Popen`` (``pid``, ``poll``, ``wait``, ``kill``, ``returncode``), and both kill
the worker's whole process group: a grandchild the function started dies with its worker.

The zygote is started once per local cloud, with an environment of its own
(``zygote_environment``): nothing of the server's environment reaches it or its workers'
``/proc/<pid>/environ``.

Example
-------
>>> sorted(zygote_environment({"PATH": "/bin", "AWS_SECRET_ACCESS_KEY": "x"}))
['LANG', 'PATH', 'TZ']
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...processes import POSIX

ZYGOTE_SCRIPT = Path(__file__).with_name("zygote.py")
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# Importing boto3 on a busy laptop can take a few seconds; a zygote not ready this long after
# its start is stopped (a new one is started at the next spawn) and the worker is spawned.
ZYGOTE_READY_S = 20.0
SPAWN_REPLY_S = 10.0
STOP_WAIT_S = 2.0
# Locale and search path: the variables Lambda itself sets that a machine decides.
MACHINE_VARIABLES = ("PATH", "LANG")
WINDOWS_VARIABLES = ("SYSTEMROOT",)  # the spawn fallback on Windows cannot start without it


class ZygoteError(RuntimeError):
    """The zygote could not start a worker (it is then restarted, or workers are spawned)."""


def fork_available() -> bool:
    """True where workers can be forked from a zygote (POSIX with descriptor passing).

    Example
    -------
    >>> fork_available() == (os.name == "posix")
    True
    """
    return POSIX and hasattr(os, "fork") and hasattr(socket, "send_fds")


def zygote_environment(source: Mapping[str, str]) -> dict[str, str]:
    """The zygote's whole environment: a search path, a locale and UTC, nothing else.

    Example
    -------
    >>> zygote_environment({"PATH": "/usr/bin", "HOME": "/home/s", "AWS_PROFILE": "p"})
    {'PATH': '/usr/bin', 'LANG': 'C.UTF-8', 'TZ': 'UTC'}
    """
    env = {key: source[key] for key in MACHINE_VARIABLES if source.get(key)}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env["TZ"] = "UTC"
    if not POSIX:
        env.update({k: source[k] for k in WINDOWS_VARIABLES if k in source})
    return env


def _kill_group(pid: int) -> None:
    if not POSIX:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    except PermissionError:
        pass


class SpawnedProcess:
    """A worker started as a new interpreter, leading its own process group.

    Example
    -------
    >>> proc = spawn_worker({}, Path("."), *os.pipe())  # doctest: +SKIP
    >>> proc.kill(); proc.wait(2)                        # doctest: +SKIP
    -9
    """

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid
        self._lock = threading.Lock()

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def poll(self) -> int | None:
        with self._lock:
            return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the worker's whole group; safe from any thread, harmless once it ended."""
        if not POSIX:
            with contextlib.suppress(OSError):
                self.popen.kill()
            return
        with self._lock:  # never signal a group whose leader was reaped (its id is free)
            if self.popen.returncode is None:
                _kill_group(self.pid)


def spawn_worker(env: dict[str, str], cwd: Path, request_r: int,
                 response_w: int) -> SpawnedProcess:
    """Start ``python -P worker.py`` on the two pipe ends, in a new process group.

    Example
    -------
    >>> spawn_worker(env, code_dir, request_r, response_w).pid > 0  # doctest: +SKIP
    True
    """
    group = {"start_new_session": True} if POSIX else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    popen = subprocess.Popen(
        [sys.executable, "-P", str(WORKER_SCRIPT), str(request_r), str(response_w)],
        env=env, cwd=cwd, stdin=subprocess.DEVNULL, pass_fds=(request_r, response_w),
        close_fds=True, **group,
    )
    return SpawnedProcess(popen)


class ForkedProcess:
    """A worker forked by the zygote; the zygote reaps it and reports how it ended."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        self._ended = threading.Event()

    def ended(self, returncode: int) -> None:
        self.returncode = returncode
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return self.returncode if self.returncode is not None else -signal.SIGKILL

    def kill(self) -> None:
        """Ask the zygote to SIGKILL the worker's group; safe from any thread."""
        if self.returncode is None:
            self.server.kill(self.pid)


class ForkServer:
    """One zygote per local cloud: started on ``start``, restarted if it ever dies.

    Example
    -------
    >>> server = ForkServer(); server.start()                        # doctest: +SKIP
    >>> proc = server.spawn(env, code_dir, request_r, response_w)    # doctest: +SKIP
    >>> server.close()                                               # doctest: +SKIP
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._env = zygote_environment(os.environ if environ is None else environ)
        self._lock = threading.Lock()  # one spawn conversation at a time
        self._write = threading.Lock()  # one message at a time on the socket
        self._state = threading.Condition()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready = False
        self._started = 0.0
        self._closed = False
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._workers: dict[int, ForkedProcess] = {}

    @property
    def pid(self) -> int | None:
        """The zygote's pid while it runs.

        Example
        -------
        >>> ForkServer().pid is None
        True
        """
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        """Start the zygote (it imports boto3 in the background); no-op while one runs."""
        with self._state:
            if self._closed:
                raise ZygoteError("The local cloud is stopping; it starts no more workers.")
            if self._proc is not None and self._sock is not None:
                return
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-P", str(ZYGOTE_SCRIPT), str(theirs.fileno())],
                    env=self._env, cwd="/", stdin=subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),), close_fds=True, start_new_session=True,
                )
            except OSError:
                ours.close()
                raise
            finally:
                theirs.close()
            self._sock, self._ready, self._started = ours, False, time.monotonic()
            threading.Thread(target=self._read, args=(ours, self._proc), name="zygote",
                             daemon=True).start()

    def spawn(self, env: dict[str, str], cwd: Path, request_r: int,
              response_w: int) -> ForkedProcess:
        """Fork a worker with ``env`` in ``cwd`` on the two pipe ends (the caller closes them).

        Raises ZygoteError when the zygote cannot (it is then restarted at the next spawn).
        """
        self.start()
        with self._lock:
            sock = self._wait_ready()
            self._next_id += 1
            request_id = self._next_id
            data = json.dumps({"t": "spawn", "id": request_id, "env": env,
                               "cwd": str(cwd)}).encode() + b"\n"
            try:
                with self._write:
                    sent = socket.send_fds(sock, [data], [request_r, response_w])
                    if sent < len(data):
                        sock.sendall(data[sent:])
            except OSError as exc:
                self._forget(sock)
                raise ZygoteError(f"the zygote went away: {exc}") from None
            reply = self._wait_reply(request_id, sock)
        if reply.get("t") != "spawned":
            raise ZygoteError(f"the zygote could not fork a worker: {reply.get('error')}")
        return self._workers_get(int(reply["pid"]))

    def kill(self, pid: int) -> None:
        """SIGKILL worker ``pid``'s group (through the zygote, which alone may reap it)."""
        sock = self._sock
        if sock is None:
            return
        with contextlib.suppress(OSError), self._write:
            sock.sendall(json.dumps({"t": "kill", "pid": pid}).encode() + b"\n")

    def close(self) -> None:
        """Stop the zygote; it kills every worker's group on its way out."""
        with self._state:
            self._closed = True
            sock, proc = self._sock, self._proc
            self._state.notify_all()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if proc is not None:
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_WAIT_S)
        if sock is not None:
            sock.close()

    # -- the reader thread and its bookkeeping -------------------------------------------

    def _workers_get(self, pid: int) -> ForkedProcess:
        with self._state:
            return self._workers[pid]

    def _wait_ready(self) -> socket.socket:
        with self._state:
            while not self._ready:
                if self._closed or self._sock is None:
                    raise ZygoteError("the zygote stopped before it was ready")
                remaining = self._started + ZYGOTE_READY_S - time.monotonic()
                if remaining <= 0:
                    if self._proc is not None:
                        self._proc.kill()  # its reader thread then forgets it
                    raise ZygoteError(f"the zygote was not ready within {ZYGOTE_READY_S:.0f} s")
                self._state.wait(remaining)
            return self._sock  # type: ignore[return-value]

    def _wait_reply(self, request_id: int, sock: socket.socket) -> dict[str, Any]:
        deadline = time.monotonic() + SPAWN_REPLY_S
        with self._state:
            while request_id not in self._replies:
                if self._sock is not sock:
                    raise ZygoteError("the zygote went away while forking a worker")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ZygoteError("the zygote did not answer a spawn request")
                self._state.wait(remaining)
            return self._replies.pop(request_id)

    def _read(self, sock: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while (newline := buffer.find(b"\n")) >= 0:
                    message = json.loads(buffer[:newline])
                    del buffer[:newline + 1]
                    self._handle(message)
        except (OSError, ValueError):
            pass
        self._forget(sock)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_WAIT_S)  # reaps the zygote

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        with self._state:
            if kind == "ready":
                self._ready = True
            elif kind == "spawned":
                pid = int(message["pid"])
                self._workers[pid] = ForkedProcess(self, pid)
                self._replies[int(message["id"])] = message
            elif kind == "failed":
                self._replies[int(message["id"])] = message
            elif kind == "exit":
                worker = self._workers.pop(int(message["pid"]), None)
                if worker is not None:
                    worker.ended(int(message["rc"]))
            self._state.notify_all()

    def _forget(self, sock: socket.socket) -> None:
        """The zygote is gone: its workers are ended (their groups killed) and forgotten."""
        with self._state:
            if self._sock is not sock:
                return
            self._sock, self._proc, self._ready = None, None, False
            orphans, self._workers = list(self._workers.values()), {}
            self._state.notify_all()
        for worker in orphans:
            # The workers notice their parent's end themselves; their groups may not.
            _kill_group(worker.pid)
            worker.ended(-signal.SIGKILL)
        with contextlib.suppress(OSError):
            sock.close()
