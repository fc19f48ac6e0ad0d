"""Worker processes of the runtime: the pipe protocol, one worker, the pool of a function.

Each worker (worker.py) is one Lambda execution environment, forked by the local cloud's
zygote or spawned where fork is unavailable (forkserver.py), in a process group of its own.
The server talks to it over a pipe pair of its own (never the worker's stdout): one JSON
header line per message, then ``n`` bytes of body (see worker.py). A ``WorkerPool`` holds
the workers of one function version: idle ones wait in it, busy ones are counted, and idle
ones are reclaimed after a while, as Lambda does.

Example
-------
>>> pool = WorkerPool()
>>> pool.reap(now=0.0)
0
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ...processes import rss_mb
from ..moto_backends import FunctionSpec
from .forkserver import ForkServer, spawn_worker
from .logs import LogEvent, error_json, exit_reason, now_ms, timeout_message

INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of an on-demand environment
MAX_LOG_EVENTS = 10_000  # per invocation: a runaway print loop must not exhaust the server
STOP_WAIT_S = 2.0
# Like Lambda, an execution environment that has had nothing to do for a while is reclaimed,
# so a laptop's memory goes back to the student after a burst (each worker holds ~15-50 MB).
IDLE_LIMIT_S = 120.0


@dataclass
class RunOutcome:
    """How one invocation ended in a worker (or without one)."""

    status: str  # "ok", "error" (the function raised), "timeout", "died", "init", "injected"
    payload: bytes
    duration_ms: float
    memory_mb: int = 0
    events: list[LogEvent] = field(default_factory=list)
    error_type: str = ""


class InitFailed(Exception):
    """The worker's init phase failed: the error payload and the init phase's log."""

    def __init__(self, payload: dict[str, Any], events: list[LogEvent],
                 init_ms: float, stream: str) -> None:
        super().__init__(payload.get("errorMessage", ""))
        self.payload, self.events, self.init_ms, self.stream = payload, events, init_ms, stream


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


class FrameReader:
    """Reads the worker's framed messages from a pipe, with a deadline.

    Example
    -------
    >>> r, w = os.pipe()
    >>> _ = os.write(w, b'{"t": "ready", "n": 2}\\nhi')
    >>> FrameReader(r).read(time.monotonic() + 1)
    ({'t': 'ready', 'n': 2}, b'hi')
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()

    def read(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        """The next message (header, body); raises on the deadline or the pipe's end."""
        while True:
            newline = self._buf.find(b"\n")
            if newline >= 0:
                header = json.loads(self._buf[:newline])
                end = newline + 1 + int(header.get("n", 0))
                if len(self._buf) >= end:
                    body = bytes(self._buf[newline + 1:end])
                    del self._buf[:end]
                    return header, body
            self._fill(deadline)

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            raise _Timeout
        chunk = os.read(self.fd, 1 << 18)
        if not chunk:
            raise _Died
        self._buf += chunk


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a pipe.

    Example
    -------
    >>> r, w = os.pipe(); write_all(w, b"x"); os.read(r, 1)
    b'x'
    """
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class WorkerProcess(Protocol):
    """What the pool needs of a worker's process (forkserver.py's ForkedProcess and
    SpawnedProcess): ``kill`` takes the worker's whole process group."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class Worker:
    """One worker process (one execution environment) and the server's end of its pipes."""

    def __init__(self, spec: FunctionSpec, proc: WorkerProcess, request_fd: int,
                 response_fd: int, stream: str) -> None:
        self.spec = spec
        self.proc = proc
        self.request_fd = request_fd
        self.reader = FrameReader(response_fd)
        self.stream = stream
        self.spawned_ms = now_ms()
        self.spawned = time.perf_counter()
        self.init_ms: float | None = None  # set until the first invocation has reported it
        self.init_events: list[LogEvent] = []
        self._stopped = False
        self._peak_mb = 0
        self.idle_since = time.monotonic()

    @classmethod
    def start(cls, spec: FunctionSpec, env: dict[str, str], cwd: Path, stream: str,
              forkserver: ForkServer | None = None) -> Worker:
        """Start a worker process for ``spec`` (it then runs its init phase).

        Forked by ``forkserver``'s zygote when one is given, else a new interpreter.

        Example
        -------
        >>> Worker.start(spec, env, code_dir, stream).wait_ready(deadline)  # doctest: +SKIP
        """
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        spawned, spawned_ms = time.perf_counter(), now_ms()
        try:
            if forkserver is not None:
                proc: WorkerProcess = forkserver.spawn(env, cwd, request_r, response_w)
            else:
                proc = spawn_worker(env, cwd, request_r, response_w)
        except Exception:
            for fd in (request_w, response_r):
                os.close(fd)
            raise
        finally:
            os.close(request_r)
            os.close(response_w)
        worker = cls(spec, proc, request_w, response_r, stream)
        worker.spawned, worker.spawned_ms = spawned, spawned_ms
        return worker

    def alive(self) -> bool:
        return not self._stopped and self.proc.poll() is None

    def max_memory_mb(self) -> int:
        """The most resident memory seen after any invocation of this worker (Max Memory Used).

        Sampled after each invocation: Python seldom gives memory back, so the resident size
        then is close to the invocation's peak.

        Example
        -------
        >>> worker.max_memory_mb()  # doctest: +SKIP
        47
        """
        self._peak_mb = max(self._peak_mb, int(rss_mb(self.proc.pid)))
        return self._peak_mb

    def kill(self) -> None:
        """Kill the process and its group only; safe from any thread (the owner sees the
        pipe close)."""
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()

    def stop(self) -> None:
        """Kill the process and its group, close the pipes; only the thread that owns the
        worker."""
        if self._stopped:
            return
        self._stopped = True
        self.kill()
        for fd in (self.request_fd, self.reader.fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_WAIT_S)

    def wait_ready(self, deadline: float) -> None:
        """Collect the init phase's output until the worker reports ready (or fails)."""
        while True:
            try:
                header, body = self.reader.read(deadline)
            except _Timeout:
                self.stop()
                message = (f"Init phase did not finish within {INIT_TIMEOUT_S:.0f} seconds "
                           "(module-level code of the function is too slow or stuck)")
                raise InitFailed({"errorType": "Runtime.InitTimeout", "errorMessage": message,
                                  "stackTrace": []}, self.init_events, INIT_TIMEOUT_S * 1000,
                                 self.stream) from None
            except _Died:
                self.stop()
                message = f"Runtime exited with error: {exit_reason(self.proc.returncode)}"
                raise InitFailed({"errorType": "Runtime.ExitError", "errorMessage": message,
                                  "stackTrace": []}, self.init_events,
                                 now_ms() - self.spawned_ms, self.stream) from None
            kind = header.get("t")
            if kind == "log":
                self.init_events.append((int(header["ts"]), str(header["m"])))
            elif kind == "ready":
                self.init_ms = (time.perf_counter() - self.spawned) * 1000
                return
            elif kind == "init_error":
                self.stop()
                raise InitFailed(json.loads(body), self.init_events,
                                 now_ms() - self.spawned_ms, self.stream)

    def run(self, request_id: str, payload: bytes, invoked_arn: str, *,
            kill: bool = False) -> RunOutcome:
        """Send one invocation and wait for its result, its timeout or the worker's death."""
        timeout = float(self.spec.timeout)
        started = time.time()
        deadline = time.monotonic() + timeout
        header = {"t": "invoke", "id": request_id, "arn": invoked_arn,
                  "deadline": (started + timeout) * 1000, "n": len(payload)}
        events: list[LogEvent] = []
        try:
            if kill:
                # The fault "the worker died during the invocation": killed first and waited
                # for, so a quick function cannot answer before the kill lands.
                self.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(STOP_WAIT_S)
            write_all(self.request_fd, json.dumps(header).encode() + b"\n" + payload)
            while True:
                reply, body = self.reader.read(deadline)
                if reply.get("t") == "log":
                    if len(events) < MAX_LOG_EVENTS:
                        events.append((int(reply["ts"]), str(reply["m"])))
                    elif len(events) == MAX_LOG_EVENTS:
                        events.append((now_ms(), "... (further output of this invocation "
                                                 "dropped by the local cloud)\n"))
                    continue
                if reply.get("t") == "result" and reply.get("id") == request_id:
                    return RunOutcome("ok" if reply.get("ok") else "error", body,
                                      float(reply.get("ms", 0.0)), self.max_memory_mb(),
                                      events)
        except _Timeout:
            self.stop()
            message = timeout_message(request_id, timeout)
            events.append((now_ms(), message + "\n"))
            return RunOutcome("timeout", error_json("Sandbox.Timedout", message, request_id),
                              timeout * 1000, 0, events, "Sandbox.Timedout")
        except (_Died, OSError):
            self.stop()
            message = (f"RequestId: {request_id} Error: Runtime exited with error: "
                       f"{exit_reason(self.proc.returncode)}")
            events.append((now_ms(), message + "\nRuntime.ExitError\n"))
            return RunOutcome("died", error_json("Runtime.ExitError", message, request_id),
                              (time.time() - started) * 1000, 0, events, "Runtime.ExitError")


class WorkerPool:
    """The workers of one function version: idle ones wait here, busy ones are counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[Worker] = []
        self.workers: set[Worker] = set()
        self.spec: FunctionSpec | None = None
        self.closed = False

    def take(self, spec: FunctionSpec) -> Worker | None:
        """An idle worker built from ``spec``; stale or dead ones are stopped on the way."""
        with self.lock:
            self.spec = spec
            keep, drop = [], []
            for worker in self.idle:
                (keep if worker.spec == spec and worker.alive() else drop).append(worker)
            self.idle = keep
            self.workers.difference_update(drop)
            worker = self.idle.pop() if self.idle else None
        for stale in drop:
            stale.stop()
        return worker

    def add(self, worker: Worker) -> bool:
        """Count a new worker in; False (and not counted) once the pool is closed."""
        with self.lock:
            if self.closed:
                return False
            self.workers.add(worker)
            return True

    def release(self, worker: Worker, healthy: bool, now: float | None = None) -> None:
        """Give a worker back after an invocation: idle if healthy and current, else stopped."""
        with self.lock:
            if healthy and not self.closed and worker.spec == self.spec and worker.alive():
                worker.idle_since = time.monotonic() if now is None else now
                self.idle.append(worker)
                return
            self.workers.discard(worker)
        worker.stop()

    def reap(self, now: float, limit: float = IDLE_LIMIT_S) -> int:
        """Stop the idle workers that have waited longer than ``limit``; how many stopped."""
        with self.lock:
            old = [w for w in self.idle if now - w.idle_since > limit]
            self.idle = [w for w in self.idle if w not in old]
            self.workers.difference_update(old)
        for worker in old:
            worker.stop()
        return len(old)

    def close(self) -> None:
        """Stop every worker; later ``add`` calls fail."""
        with self.lock:
            self.closed = True
            idle, busy = self.idle, self.workers.difference(self.idle)
            self.idle, self.workers = [], set()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()  # its invocation ends as "worker died"; its owner closes the pipes
