"""The local cloud's fork server: a process that has imported boto3 and forks the workers.

Started by forkserver.py as ``python -P zygote.py <control fd>`` with an environment of its
own (nothing of the server's: no AWS keys, no secrets). It imports the standard library,
boto3 and botocore, and worker.py (by path), then waits. It never starts a thread: forking
a multi-threaded process (the server, with its HTTP threads and mapping pollers) could copy
a lock that another thread held, so the server never forks itself; this process forks
instead.

Each worker it forks leads a process group of its own (``setsid``), closes every descriptor
but its two pipes, takes the function's environment and working folder, and only then
imports the function's module (worker.serve): the function's own init runs in the worker.
Like an AWS execution environment, a worker's group dies with it: when a worker ends, the
zygote kills what is left of its group (a grandchild the function started) before it reaps
the worker.

Protocol on the control socket (a Unix socket pair), one JSON line per message:

- server -> zygote: ``{"t": "spawn", "id": n, "env": {...}, "cwd": "..."}`` with two
  descriptors attached (the worker's request pipe's read end and response pipe's write end);
  ``{"t": "kill", "pid": p}`` kills worker ``p``'s group if ``p`` is a live worker.
- zygote -> server: ``{"t": "ready", "pid": z}`` once; ``{"t": "spawned", "id": n, "pid": p}``
  or ``{"t": "failed", "id": n, "error": "..."}`` per spawn; ``{"t": "exit", "pid": p,
  "rc": r}`` when a worker ended (``r`` as subprocess words it: ``-9`` for SIGKILL).

At end of file on the control socket (the local cloud stopped, or died) and on SIGTERM, the
zygote kills every worker's group and exits: no worker outlives it.

Example
-------
>>> _lines(bytearray(b'{"t": "kill", "pid": 7}\\n{"t"'))
[{'t': 'kill', 'pid': 7}]
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.util
import json
import os
import select
import signal
import socket
import sys
import time
import traceback
from collections import deque
from pathlib import Path
from typing import Any

WORKER_FILE = Path(__file__).with_name("worker.py")
# What the zygote imports once for every function: the SDK the lab's function (and most
# Lambda functions) import at init. Only imports: no session, client or connection is made.
PRELOAD = ("boto3", "boto3.session", "boto3.resources.factory", "boto3.dynamodb.conditions",
           "boto3.dynamodb.types", "boto3.dynamodb.transform", "botocore.session",
           "botocore.client", "botocore.httpsession", "botocore.retries.standard",
           "botocore.retries.adaptive")
MAX_FDS_PER_MESSAGE = 16
# The highest descriptor a new worker closes: the zygote's own are all small numbers.
CLOSE_UP_TO = 4096


class _Stop(Exception):
    """SIGTERM: kill the workers and leave."""


def _lines(buffer: bytearray) -> list[dict[str, Any]]:
    """Take every complete JSON line out of ``buffer`` (what is left stays in it)."""
    messages = []
    while True:
        newline = buffer.find(b"\n")
        if newline < 0:
            return messages
        line = bytes(buffer[:newline])
        del buffer[:newline + 1]
        if line.strip():
            messages.append(json.loads(line))


def _preload() -> Any:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a function without boto3 still runs
            importlib.import_module(name)
    spec = importlib.util.spec_from_file_location("_wildrydes_worker", WORKER_FILE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {WORKER_FILE}")
    worker = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = worker
    spec.loader.exec_module(worker)
    return worker


def _kill_group(pid: int) -> None:
    # The worker leads its group (pgid == pid); before its setsid() it is only itself.
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    except PermissionError:
        pass


def _peek_exited() -> int:
    """A child that has exited, left unreaped; 0 when none; -1 when waitid is unavailable."""
    if not (hasattr(os, "waitid") and hasattr(os, "WNOWAIT")):
        return -1
    try:
        info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return 0
    return info.si_pid if info is not None else 0


def _close_all_but(keep: set[int]) -> None:
    low = 3
    for fd in [*sorted(f for f in keep if f >= 3), CLOSE_UP_TO]:
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1


class Zygote:
    """The fork server's state: its control socket, its workers, the descriptors received."""

    def __init__(self, sock: socket.socket, worker: Any) -> None:
        self.sock = sock
        self.worker = worker
        self.children: set[int] = set()
        self.fds: deque[int] = deque()
        self.buffer = bytearray()
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the server is gone: the loop sees end of file
            self.sock.sendall(json.dumps(message).encode() + b"\n")

    def run(self) -> None:
        """Serve spawn and kill requests until end of file or SIGTERM."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through wake_w
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when to stop
        self.send({"t": "ready", "pid": os.getpid()})
        # Objects that exist now are never collected in the workers: their pages stay shared.
        gc.freeze()
        try:
            while True:
                readable, _, _ = select.select([self.sock, self.wake_r], [], [])
                if self.wake_r in readable:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wake_r, 512):
                            pass
                self.reap()
                if self.sock in readable and not self.receive():
                    return
        except _Stop:
            return
        finally:
            self.shutdown()

    def receive(self) -> bool:
        """Read what the server sent and act on it; False at end of file."""
        data, fds, _flags, _ = socket.recv_fds(self.sock, 1 << 16, MAX_FDS_PER_MESSAGE)
        self.fds.extend(fds)
        if not data:
            return False
        self.buffer += data
        for message in _lines(self.buffer):
            if message.get("t") == "spawn":
                self.spawn(message)
            elif message.get("t") == "kill" and int(message.get("pid", 0)) in self.children:
                _kill_group(int(message["pid"]))
        return True

    def spawn(self, message: dict[str, Any]) -> None:
        """Fork one worker for ``message`` with the next two descriptors received."""
        if len(self.fds) < 2:
            self.send({"t": "failed", "id": message.get("id"),
                       "error": "the worker's pipes did not arrive with the request"})
            return
        request_fd, response_fd = self.fds.popleft(), self.fds.popleft()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in (request_fd, response_fd):
                os.close(fd)
            self.send({"t": "failed", "id": message.get("id"), "error": str(exc)})
            return
        if pid == 0:
            self._become_worker(request_fd, response_fd, message)  # never returns
        for fd in (request_fd, response_fd):
            os.close(fd)
        self.children.add(pid)
        self.send({"t": "spawned", "id": message.get("id"), "pid": pid})

    def _become_worker(self, request_fd: int, response_fd: int,
                       message: dict[str, Any]) -> None:
        started = time.perf_counter()
        code = 1
        try:
            os.setsid()  # its own session and process group: killed as a whole
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGTERM):
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _close_all_but({request_fd, response_fd})
            os.environ.clear()
            os.environ.update({str(k): str(v) for k, v in message.get("env", {}).items()})
            if hasattr(time, "tzset"):
                time.tzset()  # TZ may differ from the zygote's
            os.chdir(str(message.get("cwd") or "/"))
            sys.argv = [str(WORKER_FILE)]
            gc.enable()
            code = self.worker.serve(request_fd, response_fd, started)
        except SystemExit as exc:  # the function called sys.exit()
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - the child must never return into the zygote
            with contextlib.suppress(Exception):
                traceback.print_exc(file=sys.__stderr__)
        finally:
            with contextlib.suppress(BaseException):
                atexit._run_exitfuncs()  # as an interpreter exiting normally would
            os._exit(code)

    def reap(self) -> None:
        """Kill the group of every worker that ended, then reap it and tell the server."""
        while self.children:
            pid = _peek_exited()
            if pid == 0:
                return
            if pid > 0:
                _kill_group(pid)  # a zombie still holds its pid: the group id is still its own
                try:
                    _, status = os.waitpid(pid, 0)
                except ChildProcessError:
                    status = 0
            else:  # no waitid here (macOS before Python 3.13): reap first, then kill
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                _kill_group(pid)
            self.children.discard(pid)
            self.send({"t": "exit", "pid": pid, "rc": os.waitstatus_to_exitcode(status)})

    def shutdown(self) -> None:
        """Kill every worker's group and reap them all."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for pid in list(self.children):
            _kill_group(pid)
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            _kill_group(pid)  # grandchildren of a worker that had already ended
        self.children.clear()
        with contextlib.suppress(OSError):
            self.sock.close()


def _raise_stop(*_: Any) -> None:
    raise _Stop


def main(argv: list[str]) -> int:
    """Preload the SDK, then fork workers on request until the server goes away.

    Example
    -------
    >>> main(["zygote.py", "5"])  # doctest: +SKIP
    0
    """
    gc.disable()  # enabled again in each worker; the zygote itself makes little garbage
    sock = socket.socket(fileno=int(argv[1]))
    sock.setblocking(True)
    worker = _preload()
    Zygote(sock, worker).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
