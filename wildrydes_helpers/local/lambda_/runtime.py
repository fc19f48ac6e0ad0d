"""Runs Lambda functions inside the local cloud: warm worker processes, logs and timeouts.

Each function gets a small pool of worker processes (pool.py, worker.py), each one a Lambda
execution environment: it imports the handler's module once and serves one invocation at a
time. Workers are forked from the local cloud's zygote, which has already imported boto3
(forkserver.py, zygote.py), so a cold start pays only for the function's own init; where
fork is unavailable they are spawned. Concurrent invocations of one function (one per shard
poller, say) start more workers, as Lambda scales out, up to a cap per function
(concurrency.py: over it, Invoke is throttled with 429). When the function's code or
configuration changes, its workers are replaced at the next invocation. Every invocation is
written to the function's log group (logs.py). The function's code and settings are read
through ``cloud.backends``.

A function's environment holds Lambda's variables, the function's own Environment and the
home's credentials (as Lambda hands a function its role's), never the server's environment.

Example
-------
>>> runtime = FunctionRuntime(cloud)                                    # doctest: +SKIP
>>> runtime.invoke("WildRydesAggregator", b"{}", "us-east-1").payload  # doctest: +SKIP
b'null'
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

from ...config import load_config
from ..context import WORKER_USER_AGENT_MARK, InvokeResult, LocalCloud
from ..credentials import HomeCredentials, ensure_credentials
from ..moto_backends import FunctionSpec, InvalidFunctionReference
from .concurrency import ConcurrencyLimits, TooManyRequests, function_limit
from .forkserver import ForkServer, ZygoteError, fork_available, zygote_environment
from .logs import (
    LogEvent,
    error_json,
    init_start_line,
    log_stream_name,
    log_tail,
    now_ms,
    report_line,
    timeout_message,
    write_log_events,
)
from .pool import IDLE_LIMIT_S, INIT_TIMEOUT_S, InitFailed, RunOutcome, Worker, WorkerPool
from .worker import error_log

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
REAP_EVERY_S = 10.0
# Lambda queues an Event invocation that is throttled and tries again; this one waits this
# long for a free worker before it is dropped (with a line in the local cloud's log).
EVENT_SLOT_WAIT_S = 60.0
# "fork" (the default where available) or "spawn": how workers start.
WORKER_START_VARIABLE = "WILDRYDES_WORKER_START"


class InvalidInvocation(ValueError):
    """The invocation names a function in a way Lambda rejects (a bad qualifier, say)."""


class RuntimeStopped(RuntimeError):
    """The local cloud is stopping; it runs no more functions."""


class _CodeError(Exception):
    pass


class FunctionRuntime:
    """Runs the local cloud's Lambda functions (see the module docstring). Thread-safe.

    Example
    -------
    >>> runtime = FunctionRuntime(cloud)                        # doctest: +SKIP
    >>> result = runtime.invoke("fn", b'{"a": 1}', "us-east-1")  # doctest: +SKIP
    >>> result.status_code, result.function_error                # doctest: +SKIP
    (200, None)
    """

    def __init__(self, cloud: LocalCloud, home: Path | None = None,
                 worker_start: str | None = None) -> None:
        self.cloud = cloud
        home_dir = Path(home if home is not None else load_config().home)
        self.code_root = home_dir / "functions"
        # Code unpacked by an earlier run of the local cloud is never used again.
        shutil.rmtree(self.code_root, ignore_errors=True)
        self.credentials: HomeCredentials = cloud.credentials or ensure_credentials(home_dir)
        self._pools: dict[tuple[str, str, str], WorkerPool] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.limits = ConcurrencyLimits()
        start = worker_start or os.environ.get(WORKER_START_VARIABLE, "fork")
        self.forkserver: ForkServer | None = None
        if start != "spawn" and fork_available():
            # Started now: it imports boto3 while the student is still reading.
            self.forkserver = ForkServer()
            self.forkserver.start()
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
        spec = self.function_spec(function, region, qualifier)
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", None, "", request_id, 0.0, spec.version)
        invoked_arn = _invoked_arn(function, spec, qualifier)
        if invocation_type == "Event":
            threading.Thread(target=self._run_event, args=(spec, payload, request_id, invoked_arn),
                             name=f"event-{spec.name}", daemon=True).start()
            return InvokeResult(202, b"", None, "", request_id, 0.0, spec.version)
        return self._run(spec, payload, request_id, invoked_arn)

    def function_spec(self, function: str, region: str,
                      qualifier: str | None = None) -> FunctionSpec:
        """Snapshot of the function's code and configuration, read through the moto door.

        Raises FunctionNotFound, or InvalidInvocation for a qualifier Lambda rejects.

        Example
        -------
        >>> runtime.function_spec("fn", "us-east-1").handler  # doctest: +SKIP
        'index.handler'
        """
        try:
            return self.cloud.backends.function_spec(region, function, qualifier)
        except InvalidFunctionReference as exc:
            raise InvalidInvocation(str(exc)) from None

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
        if self.forkserver is not None:
            self.forkserver.close()  # the zygote kills what is left of every worker's group

    # -- one invocation -----------------------------------------------------------------

    def _run_event(self, spec: FunctionSpec, payload: bytes, request_id: str,
                   invoked_arn: str) -> None:
        try:
            self._run(spec, payload, request_id, invoked_arn, slot_wait_s=EVENT_SLOT_WAIT_S)
        except RuntimeStopped:  # deleted or stopping: the event is dropped
            pass
        except TooManyRequests as exc:
            print(f"wildrydes runtime: Event invocation {request_id} dropped: {exc}",
                  flush=True)

    def _pool(self, key: tuple[str, str, str]) -> WorkerPool:
        with self._lock:
            if self._closed:
                raise RuntimeStopped("The local cloud is stopping; it runs no more functions.")
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = WorkerPool()
            return pool

    def _run(self, spec: FunctionSpec, payload: bytes, request_id: str, invoked_arn: str,
             slot_wait_s: float = 0.0) -> InvokeResult:
        """Run one invocation in a slot of the function's concurrency (or raise the throttle)."""
        key = (spec.region, spec.name)
        limit = function_limit(spec.reserved_concurrency)
        if not self.limits.acquire(key, limit, slot_wait_s):
            raise TooManyRequests(spec.name, limit, spec.reserved_concurrency)
        try:
            return self._run_in_slot(spec, payload, request_id, invoked_arn)
        finally:
            self.limits.release(key)

    def _run_in_slot(self, spec: FunctionSpec, payload: bytes, request_id: str,
                     invoked_arn: str) -> InvokeResult:
        started_ms = now_ms()
        unsupported = _unsupported(spec)
        if unsupported:
            return self._fail_without_worker(spec, request_id, started_ms, *unsupported)
        pool = self._pool(spec.key)
        try:
            worker = pool.take(spec) or self._spawn(spec, pool)
        except InitFailed as failed:
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
            head = [(started_ms - int(init_ms), init_start_line()), *init_events]
        return self._finish(spec, worker.stream, request_id, started_ms, outcome, init_ms, head)

    def _run_with_faults(self, worker: Worker, spec: FunctionSpec, payload: bytes,
                         request_id: str, invoked_arn: str) -> RunOutcome:
        faults = self.cloud.faults
        kill = False
        if faults.active:
            if faults.roll(faults.invoke_error_rate):
                message = "Injected fault: the local cloud failed this invocation on purpose."
                body = error_json("InjectedFault", message, request_id)
                return RunOutcome("injected", body, 0.0, 0, [(now_ms(), error_log(
                    {"errorType": "InjectedFault", "errorMessage": message}))], "InjectedFault")
            if faults.roll(faults.invoke_timeout_rate):
                # Behaves as a timeout without making the caller wait the whole timeout.
                message = timeout_message(request_id, spec.timeout)
                return RunOutcome("injected", error_json("Sandbox.Timedout", message, request_id),
                                  spec.timeout * 1000, 0, [(now_ms(), message + "\n")],
                                  "Sandbox.Timedout")
            kill = faults.roll(faults.worker_kill_rate)
        return worker.run(request_id, payload, invoked_arn, kill=kill)

    def _spawn(self, spec: FunctionSpec, pool: WorkerPool) -> Worker:
        code_dir = self._code_dir(spec)
        stream = log_stream_name(version=spec.version)
        self.cloud.backends.ensure_log_stream(spec.region, spec.log_group, stream)
        env = self._environment(spec, code_dir, stream)
        try:
            worker = Worker.start(spec, env, code_dir, stream, self.forkserver)
        except ZygoteError as exc:
            # The zygote is restarted at the next spawn; this worker starts the slow way.
            print(f"wildrydes runtime: {exc}; starting the worker without the zygote",
                  flush=True)
            worker = Worker.start(spec, env, code_dir, stream)
        if not pool.add(worker):
            worker.stop()
            raise RuntimeStopped("The function was deleted or the local cloud is stopping.")
        try:
            worker.wait_ready(time.monotonic() + INIT_TIMEOUT_S)
        except InitFailed:
            pool.release(worker, healthy=False)
            raise
        return worker

    def _environment(self, spec: FunctionSpec, code_dir: Path, stream: str) -> dict[str, str]:
        """The function's whole environment: nothing of the server's own (see the module)."""
        env = zygote_environment(os.environ)  # search path and locale, as Lambda sets them
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
            # The home's key pair, as Lambda hands a function its role's credentials.
            "AWS_ACCESS_KEY_ID": self.credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.credentials.secret_access_key,
            "AWS_SDK_UA_APP_ID": WORKER_USER_AGENT_MARK,
            "AWS_CONFIG_FILE": nowhere,
            "AWS_SHARED_CREDENTIALS_FILE": nowhere,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TZ": "UTC",
        })
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.pop(key, None)  # the function's own Environment must not name other keys
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
                outcome: RunOutcome, init_ms: float | None = None,
                head: list[LogEvent] | None = None) -> InvokeResult:
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
        write_log_events(self.cloud.backends, spec, stream, (head or []) + body)
        failed = outcome.status != "ok"
        return InvokeResult(200, outcome.payload, "Unhandled" if failed else None,
                            log_tail(body), request_id, outcome.duration_ms, spec.version)

    def _init_failure(self, spec: FunctionSpec, request_id: str,
                      failed: InitFailed) -> InvokeResult:
        started = now_ms()
        payload = dict(failed.payload, requestId=request_id)
        outcome = RunOutcome("init", json.dumps(payload).encode(), 0.0, 0,
                             [(started, error_log(payload))], str(payload.get("errorType")))
        head = [(started - int(failed.init_ms), init_start_line()), *failed.events]
        return self._finish(spec, failed.stream, request_id, started, outcome,
                            failed.init_ms, head)

    def _fail_without_worker(self, spec: FunctionSpec, request_id: str, started_ms: int,
                             error_type: str, message: str) -> InvokeResult:
        stream = log_stream_name(version=spec.version)
        self.cloud.backends.ensure_log_stream(spec.region, spec.log_group, stream)
        payload = {"errorType": error_type, "errorMessage": message}
        outcome = RunOutcome("init", error_json(error_type, message, request_id), 0.0, 0,
                             [(now_ms(), error_log(payload))], error_type)
        return self._finish(spec, stream, request_id, started_ms, outcome)


def _invoked_arn(function: str, spec: FunctionSpec, qualifier: str | None) -> str:
    if function.startswith("arn:"):
        return function
    if ":" in function:
        qualifier = function.split(":", 1)[1]
    return f"{spec.arn}:{qualifier}" if qualifier and not spec.arn.endswith(
        f":{qualifier}") else spec.arn


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
