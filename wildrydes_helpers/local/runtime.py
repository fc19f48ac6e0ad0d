"""Runs Lambda functions inside the local cloud: warm worker processes, logs and timeouts.

Each function gets a small pool of worker processes (worker.py), each one a Lambda
execution environment: it imports the handler's module once and serves one invocation at a
time. Concurrent invocations of one function (one per shard poller, say) start more workers,
as Lambda scales out. When the function's code or configuration changes, its workers are
replaced at the next invocation. Every invocation is written to the function's log group
``/aws/lambda/<name>`` with Lambda's START / END / REPORT lines.

The server talks to a worker over a pipe pair of its own (never the worker's stdout): one
JSON header line per message, then ``n`` bytes of body (see worker.py).

Example
-------
>>> runtime = FunctionRuntime(cloud)                                    # doctest: +SKIP
>>> runtime.invoke("WildRydesAggregator", b"{}", "us-east-1").payload  # doctest: +SKIP
b'null'
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LATEST = "$LATEST"
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LOG_TAIL_BYTES = 4096
INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of an on-demand environment
MAX_LOG_EVENTS = 10_000  # per invocation: a runaway print loop must not exhaust the server
STOP_WAIT_S = 2.0
# Like Lambda, an execution environment that has had nothing to do for a while is reclaimed,
# so a laptop's memory goes back to the student after a burst (each worker holds ~15-50 MB).
IDLE_LIMIT_S = 120.0
REAP_EVERY_S = 10.0
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# What a worker keeps of the server's environment: only what Python itself needs.
KEPT_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "TMPDIR",
                    "SYSTEMROOT")
_SIGNAL_WORDS = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
                 signal.SIGABRT: "aborted", signal.SIGTERM: "terminated"}


@dataclass
class InvokeResult:
    """What one invocation returned, in the terms of Lambda's Invoke API."""

    status_code: int  # 200 RequestResponse, 202 Event, 204 DryRun
    payload: bytes  # the function's JSON response, or {"errorMessage","errorType",...}
    function_error: str | None  # None on success, "Unhandled" otherwise
    log_tail: str  # this invocation's log (START..REPORT), last 4 KB
    request_id: str
    duration_ms: float
    executed_version: str = LATEST


class FunctionNotFound(LookupError):
    """No function of that name (or qualifier) in that region; str() is AWS's message."""


class InvalidInvocation(ValueError):
    """The invocation names a function in a way Lambda rejects (a bad qualifier, say)."""


class RuntimeStopped(RuntimeError):
    """The local cloud is stopping; it runs no more functions."""


@dataclass(frozen=True)
class FunctionSpec:
    """What a worker is built from: a snapshot of one function version's code and settings.

    Two specs compare equal when a worker built for one can serve the other (same code and
    configuration); ``code`` itself is compared through its SHA-256.

    Example
    -------
    >>> spec = FunctionSpec("us-east-1", "fn", "$LATEST", "arn:...:fn", "index.handler",
    ...                     "python3.12", 3, 128, "arn:...:role/r", (), "abc=", "Zip", b"")
    >>> spec.log_group
    '/aws/lambda/fn'
    """

    region: str
    name: str
    version: str
    arn: str
    handler: str
    run_time: str
    timeout: float
    memory_size: int
    role: str
    environment: tuple[tuple[str, str], ...]
    code_sha: str
    package_type: str
    code: bytes = field(compare=False, repr=False)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.region, self.name, self.version


@dataclass
class _Outcome:
    status: str  # "ok", "error" (the function raised), "timeout", "died", "init"
    payload: bytes
    duration_ms: float
    memory_mb: int = 0
    events: list[tuple[int, str]] = field(default_factory=list)
    error_type: str = ""


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


class _InitFailed(Exception):
    def __init__(self, payload: dict[str, Any], events: list[tuple[int, str]],
                 init_ms: float, stream: str) -> None:
        super().__init__(payload.get("errorMessage", ""))
        self.payload, self.events, self.init_ms, self.stream = payload, events, init_ms, stream


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the unit of CloudWatch Logs timestamps.

    Example
    -------
    >>> now_ms() > 1_700_000_000_000
    True
    """
    return int(time.time() * 1000)


def log_stream_name(when: datetime | None = None, version: str = LATEST) -> str:
    """A log stream name in Lambda's format: ``YYYY/MM/DD/[$LATEST]`` + 32 hex digits.

    Example
    -------
    >>> log_stream_name(datetime(2024, 5, 1, tzinfo=UTC))[:20]
    '2024/05/01/[$LATEST]'
    """
    when = when or datetime.now(UTC)
    return f"{when:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def exit_reason(returncode: int | None) -> str:
    """How Lambda words a runtime's exit: ``signal: killed`` or ``exit status 1``.

    Example
    -------
    >>> exit_reason(-9), exit_reason(3)
    ('signal: killed', 'exit status 3')
    """
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"signal: {-returncode}"
        return f"signal: {_SIGNAL_WORDS.get(sig, sig.name.lower())}"
    return f"exit status {returncode}"


def report_line(request_id: str, duration_ms: float, memory_size: int, memory_used: int,
                init_ms: float | None = None, status: str = "", error_type: str = "") -> str:
    """Lambda's REPORT line (tab separated, as in CloudWatch Logs).

    Example
    -------
    >>> report_line("r1", 1.234, 128, 40)
    'REPORT RequestId: r1\\tDuration: 1.23 ms\\tBilled Duration: 2 ms\\tMemory Size: 128 MB\\tMax Memory Used: 40 MB\\n'
    """  # noqa: E501
    parts = [f"REPORT RequestId: {request_id}", f"Duration: {duration_ms:.2f} ms",
             f"Billed Duration: {max(math.ceil(duration_ms), 1)} ms",
             f"Memory Size: {memory_size} MB", f"Max Memory Used: {memory_used} MB"]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        parts.append(f"Status: {status}")
    if error_type:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts) + "\n"


def timeout_message(request_id: str, timeout_s: float, when: datetime | None = None) -> str:
    """Lambda's timeout text: ``<UTC timestamp> <request id> Task timed out after N.NN seconds``.

    Example
    -------
    >>> timeout_message("r1", 3, datetime(2024, 5, 1, 12, 0, 3, 5000, tzinfo=UTC))
    '2024-05-01T12:00:03.005Z r1 Task timed out after 3.00 seconds'
    """
    when = when or datetime.now(UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"


def error_json(error_type: str, message: str, request_id: str = "") -> bytes:
    """An AWS-style function error payload.

    Example
    -------
    >>> json.loads(error_json("InjectedFault", "boom"))["errorType"]
    'InjectedFault'
    """
    return json.dumps({"errorMessage": message, "errorType": error_type,
                       "requestId": request_id, "stackTrace": []}).encode()


def _error_log(payload: dict[str, Any]) -> str:
    text = f"[ERROR] {payload.get('errorType')}: {payload.get('errorMessage')}"
    trace = payload.get("stackTrace") or []
    if trace:
        text += "\nTraceback (most recent call last):\n" + "".join(trace).rstrip("\n")
    return text + "\n"


class _FrameReader:
    """Reads the worker's framed messages from a pipe, with a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()

    def read(self, deadline: float) -> tuple[dict[str, Any], bytes]:
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


class _Worker:
    """One worker process (one execution environment) and the server's end of its pipes."""

    def __init__(self, spec: FunctionSpec, proc: subprocess.Popen[bytes], request_fd: int,
                 response_fd: int, stream: str) -> None:
        self.spec = spec
        self.proc = proc
        self.request_fd = request_fd
        self.reader = _FrameReader(response_fd)
        self.stream = stream
        self.spawned_ms = now_ms()
        self.spawned = time.perf_counter()
        self.init_ms: float | None = None  # set until the first invocation has reported it
        self.init_events: list[tuple[int, str]] = []
        self._stopped = False
        self.idle_since = time.monotonic()

    def alive(self) -> bool:
        return not self._stopped and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the process only; safe from any thread (the owner sees the pipe close)."""
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()

    def stop(self) -> None:
        """Kill the process and close the pipes; only the thread that owns the worker."""
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
                raise _InitFailed({"errorType": "Runtime.InitTimeout", "errorMessage": message,
                                   "stackTrace": []}, self.init_events, INIT_TIMEOUT_S * 1000,
                                  self.stream) from None
            except _Died:
                self.stop()
                message = f"Runtime exited with error: {exit_reason(self.proc.returncode)}"
                raise _InitFailed({"errorType": "Runtime.ExitError", "errorMessage": message,
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
                raise _InitFailed(json.loads(body), self.init_events,
                                  now_ms() - self.spawned_ms, self.stream)

    def run(self, request_id: str, payload: bytes, invoked_arn: str, *,
            kill: bool = False) -> _Outcome:
        """Send one invocation and wait for its result, its timeout or the worker's death."""
        timeout = float(self.spec.timeout)
        started = time.time()
        deadline = time.monotonic() + timeout
        header = {"t": "invoke", "id": request_id, "arn": invoked_arn,
                  "deadline": (started + timeout) * 1000, "n": len(payload)}
        events: list[tuple[int, str]] = []
        try:
            _write_all(self.request_fd, json.dumps(header).encode() + b"\n" + payload)
            if kill:
                self.kill()
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
                    return _Outcome("ok" if reply.get("ok") else "error", body,
                                    float(reply.get("ms", 0.0)), int(reply.get("mem_mb", 0)),
                                    events)
        except _Timeout:
            self.stop()
            message = timeout_message(request_id, timeout)
            events.append((now_ms(), message + "\n"))
            return _Outcome("timeout", error_json("Sandbox.Timedout", message, request_id),
                            timeout * 1000, 0, events, "Sandbox.Timedout")
        except (_Died, OSError):
            self.stop()
            message = (f"RequestId: {request_id} Error: Runtime exited with error: "
                       f"{exit_reason(self.proc.returncode)}")
            events.append((now_ms(), message + "\nRuntime.ExitError\n"))
            return _Outcome("died", error_json("Runtime.ExitError", message, request_id),
                            (time.time() - started) * 1000, 0, events, "Runtime.ExitError")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Pool:
    """The workers of one function version: idle ones wait here, busy ones are counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.workers: set[_Worker] = set()
        self.spec: FunctionSpec | None = None
        self.closed = False

    def take(self, spec: FunctionSpec) -> _Worker | None:
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

    def add(self, worker: _Worker) -> bool:
        with self.lock:
            if self.closed:
                return False
            self.workers.add(worker)
            return True

    def release(self, worker: _Worker, healthy: bool, now: float | None = None) -> None:
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
        with self.lock:
            self.closed = True
            idle, busy = self.idle, self.workers.difference(self.idle)
            self.idle, self.workers = [], set()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()  # its invocation ends as "worker died"; its owner closes the pipes


class FunctionRuntime:
    """Runs the local cloud's Lambda functions (see the module docstring). Thread-safe.

    Example
    -------
    >>> runtime = FunctionRuntime(cloud)                        # doctest: +SKIP
    >>> result = runtime.invoke("fn", b'{"a": 1}', "us-east-1")  # doctest: +SKIP
    >>> result.status_code, result.function_error                # doctest: +SKIP
    (200, None)
    """

    def __init__(self, cloud: Any, home: Path | None = None) -> None:
        self.cloud = cloud
        if home is None:
            from ..config import load_config

            home = load_config().home
        self.code_root = Path(home) / "functions"
        # Code unpacked by an earlier run of the local cloud is never used again.
        shutil.rmtree(self.code_root, ignore_errors=True)
        self._pools: dict[tuple[str, str, str], _Pool] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._stop_reaping = threading.Event()
        threading.Thread(target=self._reap_forever, name="reaper", daemon=True).start()

    def _reap_forever(self) -> None:
        while not self._stop_reaping.wait(REAP_EVERY_S):
            self.reap_idle(time.monotonic())

    def reap_idle(self, now: float, limit: float = IDLE_LIMIT_S) -> int:
        """Stop workers idle for more than ``limit`` seconds at ``now``; how many stopped.

        Example
        -------
        >>> runtime.reap_idle(time.monotonic(), limit=0.0)  # doctest: +SKIP
        1
        """
        with self._lock:
            pools = list(self._pools.values())
        return sum(pool.reap(now, limit) for pool in pools)

    # -- public API ---------------------------------------------------------------------

    def invoke(self, function: str, payload: bytes, region: str, *,
               invocation_type: str = "RequestResponse",
               qualifier: str | None = None) -> InvokeResult:
        """Invoke ``function`` (a name or ARN, maybe qualified) with a JSON ``payload``.

        Raises FunctionNotFound when there is no such function; every failure of the function
        itself (exception, timeout, crash) is a result with ``function_error="Unhandled"``.

        Example
        -------
        >>> runtime.invoke("fn", b"{}", "us-east-1").payload  # doctest: +SKIP
        b'{"ok": true}'
        """
        if invocation_type not in INVOCATION_TYPES:
            raise InvalidInvocation(
                f"InvocationType '{invocation_type}' is not one of {', '.join(INVOCATION_TYPES)}")
        spec = self.describe(function, region, qualifier)
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", None, "", request_id, 0.0, spec.version)
        invoked_arn = self._invoked_arn(function, spec, qualifier)
        if invocation_type == "Event":
            threading.Thread(target=self._run_event, args=(spec, payload, request_id, invoked_arn),
                             name=f"event-{spec.name}", daemon=True).start()
            return InvokeResult(202, b"", None, "", request_id, 0.0, spec.version)
        return self._run(spec, payload, request_id, invoked_arn)

    def describe(self, function: str, region: str, qualifier: str | None = None) -> FunctionSpec:
        """Snapshot of the function's code and configuration, read from moto under the lock.

        Example
        -------
        >>> runtime.describe("fn", "us-east-1").handler  # doctest: +SKIP
        'index.handler'
        """
        from moto.awslambda.exceptions import LambdaClientError, UnknownFunctionException

        with self.cloud.lock:
            try:
                fn = self.cloud.lambda_backend(region).get_function(function, qualifier)
            except UnknownFunctionException as exc:
                raise FunctionNotFound(exc.message) from None
            except LambdaClientError as exc:
                raise InvalidInvocation(exc.message) from None
            return FunctionSpec(
                region=region, name=fn.function_name, version=str(fn.version),
                arn=fn.function_arn, handler=fn.handler or "", run_time=fn.run_time or "",
                timeout=float(fn.timeout), memory_size=int(fn.memory_size), role=fn.role,
                environment=tuple(sorted((str(k), str(v))
                                         for k, v in (fn.environment_vars or {}).items())),
                code_sha=fn.code_sha_256 or "", package_type=fn.package_type or "Zip",
                code=fn.code_bytes or b"",
            )

    def forget(self, function_name: str) -> None:
        """The function was deleted: stop its workers and drop its unpacked code.

        Example
        -------
        >>> runtime.forget("fn")  # doctest: +SKIP
        """
        name = _plain_name(function_name)
        with self._lock:
            keys = [key for key in self._pools if key[1] == name]
            pools = [self._pools.pop(key) for key in keys]
        for pool in pools:
            pool.close()
        for key in keys:
            shutil.rmtree(self.code_root / key[0] / name, ignore_errors=True)

    def shutdown(self) -> None:
        """Stop every worker; later invocations raise RuntimeStopped.

        Example
        -------
        >>> runtime.shutdown()  # doctest: +SKIP
        """
        self._stop_reaping.set()
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def worker_count(self, function_name: str | None = None) -> int:
        """How many workers run (for one function, or in all); for status and tests.

        Example
        -------
        >>> runtime.worker_count("fn")  # doctest: +SKIP
        1
        """
        with self._lock:
            pools = [p for k, p in self._pools.items()
                     if function_name is None or k[1] == function_name]
        return sum(len(p.workers) for p in pools)

    # -- one invocation -----------------------------------------------------------------

    def _run_event(self, spec: FunctionSpec, payload: bytes, request_id: str,
                   invoked_arn: str) -> None:
        with contextlib.suppress(RuntimeStopped):  # deleted or stopping: the event is dropped
            self._run(spec, payload, request_id, invoked_arn)

    def _pool(self, key: tuple[str, str, str]) -> _Pool:
        with self._lock:
            if self._closed:
                raise RuntimeStopped("The local cloud is stopping; it runs no more functions.")
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _Pool()
            return pool

    def _run(self, spec: FunctionSpec, payload: bytes, request_id: str,
             invoked_arn: str) -> InvokeResult:
        started_ms = now_ms()
        unsupported = _unsupported(spec)
        if unsupported:
            return self._fail_without_worker(spec, request_id, started_ms, *unsupported)
        pool = self._pool(spec.key)
        try:
            worker = pool.take(spec) or self._spawn(spec, pool)
        except _InitFailed as failed:
            return self._init_failure(spec, request_id, failed)
        except _CodeError as exc:
            return self._fail_without_worker(spec, request_id, started_ms,
                                             "Runtime.InvalidCodePackage", str(exc))
        init_ms, init_events = worker.init_ms, worker.init_events
        worker.init_ms, worker.init_events = None, []
        started_ms = now_ms()
        outcome = self._run_with_faults(worker, spec, payload, request_id, invoked_arn)
        pool.release(worker, outcome.status in ("ok", "error", "injected"))
        head = None
        if init_ms is not None:
            head = [(started_ms - int(init_ms), _init_start_line()), *init_events]
        return self._finish(spec, worker.stream, request_id, started_ms, outcome, init_ms, head)

    def _run_with_faults(self, worker: _Worker, spec: FunctionSpec, payload: bytes,
                         request_id: str, invoked_arn: str) -> _Outcome:
        faults = self.cloud.faults
        kill = False
        if faults.active:
            if faults.roll(faults.invoke_error_rate):
                message = "Injected fault: the local cloud failed this invocation on purpose."
                body = error_json("InjectedFault", message, request_id)
                return _Outcome("injected", body, 0.0, 0, [(now_ms(), _error_log(
                    {"errorType": "InjectedFault", "errorMessage": message}))], "InjectedFault")
            if faults.roll(faults.invoke_timeout_rate):
                # Behaves as a timeout without making the caller wait the whole timeout.
                message = timeout_message(request_id, spec.timeout)
                return _Outcome("injected", error_json("Sandbox.Timedout", message, request_id),
                                spec.timeout * 1000, 0, [(now_ms(), message + "\n")],
                                "Sandbox.Timedout")
            kill = faults.roll(faults.worker_kill_rate)
        return worker.run(request_id, payload, invoked_arn, kill=kill)

    def _spawn(self, spec: FunctionSpec, pool: _Pool) -> _Worker:
        code_dir = self._code_dir(spec)
        stream = log_stream_name(version=spec.version)
        self._ensure_stream(spec, stream)
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        spawned, spawned_ms = time.perf_counter(), now_ms()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", str(WORKER_SCRIPT), str(request_r), str(response_w)],
                env=self._environment(spec, code_dir, stream), cwd=code_dir,
                stdin=subprocess.DEVNULL, pass_fds=(request_r, response_w), close_fds=True,
            )
        except OSError:
            for fd in (request_w, response_r):
                os.close(fd)
            raise
        finally:
            os.close(request_r)
            os.close(response_w)
        worker = _Worker(spec, proc, request_w, response_r, stream)
        worker.spawned, worker.spawned_ms = spawned, spawned_ms
        if not pool.add(worker):
            worker.stop()
            raise RuntimeStopped("The function was deleted or the local cloud is stopping.")
        try:
            worker.wait_ready(time.monotonic() + INIT_TIMEOUT_S)
        except _InitFailed:
            pool.release(worker, healthy=False)
            raise
        return worker

    def _environment(self, spec: FunctionSpec, code_dir: Path, stream: str) -> dict[str, str]:
        env = {k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}
        env.update(dict(spec.environment))
        nowhere = str(self.code_root / "no-aws-config")  # keeps the user's ~/.aws out
        env.update({
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.run_time}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_ENDPOINT_URL": self.cloud.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_SDK_UA_APP_ID": _worker_mark(),
            "AWS_CONFIG_FILE": nowhere,
            "AWS_SHARED_CREDENTIALS_FILE": nowhere,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TZ": "UTC",
        })
        env.pop("AWS_PROFILE", None)
        return env

    def _code_dir(self, spec: FunctionSpec) -> Path:
        try:
            digest = base64.b64decode(spec.code_sha).hex()[:24]
        except ValueError:
            digest = ""
        target = self.code_root / spec.region / spec.name / (digest or "code")
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        unpacking = Path(tempfile.mkdtemp(prefix=".unzip-", dir=target.parent))
        try:
            with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                archive.extractall(unpacking)  # extractall drops absolute and '..' parts
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            shutil.rmtree(unpacking, ignore_errors=True)
            raise _CodeError(f"The function's deployment package is not a readable zip "
                             f"file ({exc}). Upload it again with UpdateFunctionCode.") from None
        try:
            os.rename(unpacking, target)
        except OSError:
            shutil.rmtree(unpacking, ignore_errors=True)  # another invocation was first
            if not target.is_dir():
                raise
        return target

    # -- results and logs -----------------------------------------------------------------

    def _finish(self, spec: FunctionSpec, stream: str, request_id: str, started_ms: int,
                outcome: _Outcome, init_ms: float | None = None,
                head: list[tuple[int, str]] | None = None) -> InvokeResult:
        body = [(started_ms, f"START RequestId: {request_id} Version: {spec.version}\n")]
        body += outcome.events
        ended = now_ms()
        status = {"timeout": "timeout", "died": "error", "init": "error"}.get(outcome.status, "")
        if outcome.error_type == "Sandbox.Timedout":
            status = "timeout"
        body.append((ended, f"END RequestId: {request_id}\n"))
        body.append((ended, report_line(
            request_id, outcome.duration_ms, spec.memory_size, outcome.memory_mb, init_ms,
            status, outcome.error_type if status == "error" else "")))
        self._put_logs(spec, stream, (head or []) + body)
        failed = outcome.status != "ok"
        return InvokeResult(200, outcome.payload, "Unhandled" if failed else None,
                            _tail(body), request_id, outcome.duration_ms, spec.version)

    def _init_failure(self, spec: FunctionSpec, request_id: str,
                      failed: _InitFailed) -> InvokeResult:
        started = now_ms()
        payload = dict(failed.payload, requestId=request_id)
        outcome = _Outcome("init", json.dumps(payload).encode(), 0.0, 0,
                           [(started, _error_log(payload))], str(payload.get("errorType")))
        head = [(started - int(failed.init_ms), _init_start_line()), *failed.events]
        return self._finish(spec, failed.stream, request_id, started, outcome,
                            failed.init_ms, head)

    def _fail_without_worker(self, spec: FunctionSpec, request_id: str, started_ms: int,
                             error_type: str, message: str) -> InvokeResult:
        stream = log_stream_name(version=spec.version)
        self._ensure_stream(spec, stream)
        payload = {"errorType": error_type, "errorMessage": message}
        outcome = _Outcome("init", error_json(error_type, message, request_id), 0.0, 0,
                           [(now_ms(), _error_log(payload))], error_type)
        return self._finish(spec, stream, request_id, started_ms, outcome)

    def _ensure_stream(self, spec: FunctionSpec, stream: str) -> None:
        with self.cloud.lock:
            backend = self.cloud.logs_backend(spec.region)
            backend.ensure_log_group(spec.log_group)
            backend.ensure_log_stream(spec.log_group, stream)

    def _put_logs(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        from moto.logs.exceptions import ResourceNotFoundException

        ordered, last = [], 0
        for ts, message in events:
            last = max(ts, last)  # PutLogEvents needs chronological order
            ordered.append({"timestamp": last, "message": message})
        if not ordered:
            return
        try:
            with self.cloud.lock:
                backend = self.cloud.logs_backend(spec.region)
                try:
                    backend.put_log_events(spec.log_group, stream, ordered)
                except ResourceNotFoundException:  # the student deleted the log group
                    backend.ensure_log_group(spec.log_group)
                    backend.ensure_log_stream(spec.log_group, stream)
                    backend.put_log_events(spec.log_group, stream, ordered)
        except Exception as exc:  # noqa: BLE001 - losing a log line must not fail the function
            print(f"wildrydes runtime: could not write logs of {spec.name}: {exc!r}",
                  flush=True)

    @staticmethod
    def _invoked_arn(function: str, spec: FunctionSpec, qualifier: str | None) -> str:
        if function.startswith("arn:"):
            return function
        if ":" in function:
            qualifier = function.split(":", 1)[1]
        return f"{spec.arn}:{qualifier}" if qualifier and not spec.arn.endswith(
            f":{qualifier}") else spec.arn


class _CodeError(Exception):
    pass


def _unsupported(spec: FunctionSpec) -> tuple[str, str] | None:
    if spec.package_type != "Zip" or not spec.code:
        return ("Runtime.InvalidEntrypoint",
                "The local cloud runs only functions deployed as a .zip file; this one is a "
                "container image. Use WILDRYDES_BACKEND=aws for image functions.")
    if not spec.run_time.startswith("python"):
        return ("Runtime.InvalidRuntime",
                f"The local cloud runs only Python functions; this one uses "
                f"'{spec.run_time or 'no runtime'}'. Create it with Runtime='python3.12'.")
    return None


def _plain_name(function: str) -> str:
    if function.startswith("arn:"):
        parts = function.split(":")
        return parts[6] if len(parts) > 6 else function
    return function.split(":", 1)[0]


def _init_start_line() -> str:
    version = f"python:{sys.version_info.major}.{sys.version_info.minor}"
    return f"INIT_START Runtime Version: {version} (local cloud worker)\n"


def _tail(events: list[tuple[int, str]]) -> str:
    text = "".join(message for _, message in events).encode()
    return text[-LOG_TAIL_BYTES:].decode(errors="ignore")


def _worker_mark() -> str:
    from .app import WORKER_USER_AGENT_MARK

    return WORKER_USER_AGENT_MARK
