"""The process that runs one Lambda function for the local cloud: its execution environment.

A worker starts in one of two ways, with the function's environment (``_HANDLER``,
``LAMBDA_TASK_ROOT``, the AWS_* variables) and in a process group of its own:

- forked by the local cloud's zygote (zygote.py), which has already imported boto3 and
  botocore, so a function's cold start does not pay for the SDK's import; the zygote calls
  ``serve`` in the new child;
- or, where fork is unavailable, started by pool.py as
  ``python -P worker.py <request fd> <response fd>``, which calls ``main``.

Either way the worker imports the handler's module itself (the function's own init, reported
as ``Init Duration``), then serves one invocation at a time for as long as it lives, so
module-level state survives between invocations as in a warm Lambda environment.

This file imports only the standard library: the zygote loads it by path, and everything it
imports would be in every function's ``sys.modules``. The local cloud reads a worker's memory
itself (pool.py), so nothing here needs the package's helpers.

Protocol: every message, in both directions, is one JSON header line, followed by exactly
``header["n"]`` bytes of body when ``n`` is present. The worker sends ``ready`` (or
``init_error``) once, ``log`` while the function prints, and ``result`` per invocation; it
exits when its request pipe reaches end of file, so it never outlives the local cloud.

Example
-------
>>> header, body = b'{"t": "invoke", "id": "1", "deadline": 0, "n": 2}\\n', b"{}"
>>> json.loads(header)["n"] == len(body)
True
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
from typing import Any, BinaryIO

MAX_EVENT_BYTES = 256 * 1024  # CloudWatch Logs' limit for one event
# The root logger's format in AWS's Python runtime.
LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
PARENT_CHECK_S = 1.0


class Channel:
    """The worker's end of the two pipes: framed reads and thread-safe framed writes.

    Example
    -------
    >>> r, w = os.pipe()
    >>> Channel(os.fdopen(r, "rb"), os.fdopen(w, "wb")).send({"t": "ping"})
    """

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = threading.Lock()

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        """Write one message; safe to call from the function's own threads."""
        if body:
            header = dict(header, n=len(body))
        data = json.dumps(header).encode() + b"\n" + body
        with self._lock:
            self._writer.write(data)
            self._writer.flush()

    def receive(self) -> tuple[dict[str, Any], bytes] | None:
        """The next message, or None at end of file (the local cloud went away)."""
        line = self._reader.readline()
        if not line:
            return None
        header = json.loads(line)
        size = int(header.get("n", 0))
        body = self._reader.read(size) if size else b""
        if len(body) < size:
            return None
        return header, body


class LogCapture(io.TextIOBase):
    """Replaces sys.stdout and sys.stderr: each complete line becomes one log event.

    Lambda merges both streams into the function's log stream, one event per line, each
    ending with a newline; the events go to the local cloud as they are written, so the lines
    of an invocation that times out are not lost.

    Example
    -------
    >>> sent = []
    >>> cap = LogCapture(lambda ts, msg: sent.append(msg))
    >>> cap.write("a\\nb"); cap.flush(); sent
    3
    ['a\\n', 'b\\n']
    """

    def __init__(self, emit: Any) -> None:
        super().__init__()
        self._emit = emit
        self._partial = ""
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            buffered = self._partial + text
            lines = buffered.split("\n")
            self._partial = lines.pop()
        for line in lines:
            self.event(line + "\n")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self.event(rest + "\n")

    def event(self, message: str) -> None:
        """Send ``message`` as one log event (a multi-line log record stays one event)."""
        if len(message) > MAX_EVENT_BYTES:
            message = message[:MAX_EVENT_BYTES] + "... (truncated)\n"
        self._emit(int(time.time() * 1000), message)


class LambdaContext:
    """The ``context`` argument of a handler, with the attributes AWS's Python runtime has.

    Example
    -------
    >>> ctx = LambdaContext("fn", "$LATEST", "arn:aws:lambda:us-east-1:1:function:fn", 128,
    ...                     "req", "/aws/lambda/fn", "stream", time.time() * 1000 + 3000)
    >>> 0 < ctx.get_remaining_time_in_millis() <= 3000
    True
    """

    def __init__(self, function_name: str, function_version: str, invoked_function_arn: str,
                 memory_limit_in_mb: int, aws_request_id: str, log_group_name: str,
                 log_stream_name: str, deadline_ms: float) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (never negative)."""
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def __repr__(self) -> str:
        return (f"LambdaContext(function_name={self.function_name!r}, "
                f"aws_request_id={self.aws_request_id!r})")


def error_payload(exc: BaseException, request_id: str, skip_frames: int = 1) -> dict[str, Any]:
    """The JSON that Lambda returns for an unhandled exception.

    Example
    -------
    >>> error_payload(ValueError("bad"), "r1")["errorType"]
    'ValueError'
    """
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None:
            tb = tb.tb_next
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(tb)),
    }


def error_log(payload: dict[str, Any]) -> str:
    """The log event Lambda writes for an error payload: ``[ERROR] Type: message`` + trace.

    Example
    -------
    >>> error_log({"errorType": "ValueError", "errorMessage": "bad", "stackTrace": []})
    '[ERROR] ValueError: bad\\n'
    """
    text = f"[ERROR] {payload.get('errorType')}: {payload.get('errorMessage')}"
    trace = payload.get("stackTrace") or []
    if trace:
        text += "\nTraceback (most recent call last):\n" + "".join(trace).rstrip("\n")
    return text + "\n"


def _install_logging(capture: LogCapture, current: dict[str, str]) -> None:
    import logging

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                record.aws_request_id = current.get("id", "")
                capture.event(self.format(record))
            except Exception:  # noqa: BLE001 - a log call must never break the function
                self.handleError(record)

    handler = Handler()
    formatter = logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    # AWS's runtime leaves the root logger at WARNING: logger.info needs setLevel(INFO).
    root.setLevel(logging.WARNING)


def _watch_parent(parent: int) -> None:
    # A function stuck in a loop never reads its pipe again; this still ends the worker
    # once the local cloud is gone.
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            os._exit(1)


def _load_handler(spec: str) -> Any:
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        raise _InitError("Runtime.MalformedHandlerName",
                         f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _InitError("Runtime.ImportModuleError",
                         f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise _InitError("Runtime.UserCodeSyntaxError",
                         f"Syntax error in module '{module_name}': {exc}") from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError("Runtime.HandlerNotFound",
                         f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _invoke(handler: Any, header: dict[str, Any], body: bytes, capture: LogCapture,
            current: dict[str, str]) -> tuple[bool, bytes]:
    request_id = header["id"]
    current["id"] = request_id
    env = os.environ
    context = LambdaContext(
        env.get("AWS_LAMBDA_FUNCTION_NAME", ""), env.get("AWS_LAMBDA_FUNCTION_VERSION", ""),
        header.get("arn", ""), int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
        request_id, env.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        env.get("AWS_LAMBDA_LOG_STREAM_NAME", ""), float(header["deadline"]),
    )
    try:
        event = json.loads(body) if body else {}
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - reported to the caller like Lambda does
        capture.flush()
        payload = error_payload(exc, request_id)
        capture.event(error_log(payload))
        return False, json.dumps(payload).encode()
    capture.flush()
    try:
        return True, json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        payload = {"errorMessage": f"Unable to marshal response: {exc}",
                   "errorType": "Runtime.MarshalError", "requestId": request_id,
                   "stackTrace": []}
        capture.event(error_log(payload))
        return False, json.dumps(payload).encode()


def main(argv: list[str]) -> int:
    """Serve invocations on the pipes named in ``argv`` (the spawned worker's entry point).

    Example
    -------
    >>> main(["worker.py", "5", "6"])  # doctest: +SKIP
    0
    """
    return serve(int(argv[1]), int(argv[2]), time.perf_counter())


def serve(request_fd: int, response_fd: int, started: float) -> int:
    """Import the function's module, report ``ready``, then serve invocations until end of file.

    ``started`` is when this environment's init began (``time.perf_counter()``).

    Example
    -------
    >>> serve(5, 6, time.perf_counter())  # doctest: +SKIP
    0
    """
    for fd in (request_fd, response_fd):
        # A process the function starts with os.system must not hold the pipes open, or the
        # local cloud would not notice this worker's death.
        os.set_inheritable(fd, False)
    channel = Channel(os.fdopen(request_fd, "rb"), os.fdopen(response_fd, "wb"))
    capture = LogCapture(lambda ts, msg: channel.send({"t": "log", "ts": ts, "m": msg}))
    sys.stdout = sys.stderr = capture
    current: dict[str, str] = {}
    _install_logging(capture, current)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "")
    if task_root:
        sys.path.insert(0, task_root)
    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except _InitError as exc:
        capture.flush()
        cause = exc.__cause__ or exc
        payload = error_payload(cause, "", skip_frames=0) if exc.__cause__ else {}
        payload.update(errorType=exc.error_type, errorMessage=str(exc), requestId="")
        payload.setdefault("stackTrace", [])
        channel.send({"t": "init_error"}, json.dumps(payload).encode())
        return 0
    except Exception as exc:  # noqa: BLE001 - module code raised while being imported
        capture.flush()
        payload = error_payload(exc, "", skip_frames=0)
        channel.send({"t": "init_error"}, json.dumps(payload).encode())
        return 0
    capture.flush()
    channel.send({"t": "ready", "init_ms": (time.perf_counter() - started) * 1000})
    while True:
        message = channel.receive()
        if message is None:
            return 0
        header, body = message
        began = time.perf_counter()
        ok, payload_bytes = _invoke(handler, header, body, capture, current)
        elapsed = (time.perf_counter() - began) * 1000
        channel.send({"t": "result", "id": header["id"], "ok": ok, "ms": elapsed},
                     payload_bytes)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
