"""What the runtime writes to a function's log group: Lambda's words, Lambda's formats.

Every invocation is written to ``/aws/lambda/<name>`` with Lambda's START / END / REPORT
lines, through the local cloud's moto door.

Example
-------
>>> exit_reason(-9)
'signal: killed'
"""

from __future__ import annotations

import json
import math
import sys
import time
import uuid
from datetime import UTC, datetime

from ...processes import signal_word
from ..context import LATEST
from ..moto_backends import FunctionSpec, MotoBackends

LOG_TAIL_BYTES = 4096

LogEvent = tuple[int, str]  # (epoch milliseconds, message)


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
    if returncode is None or returncode < 0:
        return f"signal: {signal_word(returncode)}"
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


def init_start_line() -> str:
    """The INIT_START line that opens the log of a new execution environment.

    Example
    -------
    >>> init_start_line().startswith("INIT_START Runtime Version: python:3.")
    True
    """
    version = f"python:{sys.version_info.major}.{sys.version_info.minor}"
    return f"INIT_START Runtime Version: {version} (local cloud worker)\n"


def log_tail(events: list[LogEvent]) -> str:
    """The last 4 KB of the events' text, as Invoke's ``LogType=Tail`` returns it.

    Example
    -------
    >>> log_tail([(1, "START\\n"), (2, "END\\n")])
    'START\\nEND\\n'
    """
    text = "".join(message for _, message in events).encode()
    return text[-LOG_TAIL_BYTES:].decode(errors="ignore")


def write_log_events(backends: MotoBackends, spec: FunctionSpec, stream: str,
                     events: list[LogEvent]) -> None:
    """Append ``events`` to the function's log stream; a failure is printed, never raised.

    Example
    -------
    >>> write_log_events(cloud.backends, spec, stream, [(now_ms(), "hi\\n")])  # doctest: +SKIP
    """
    ordered, last = [], 0
    for ts, message in events:
        last = max(ts, last)  # PutLogEvents needs chronological order
        ordered.append({"timestamp": last, "message": message})
    if not ordered:
        return
    try:
        backends.put_log_events(spec.region, spec.log_group, stream, ordered)
    except Exception as exc:  # noqa: BLE001 - losing a log line must not fail the function
        print(f"wildrydes runtime: could not write logs of {spec.name}: {exc!r}", flush=True)
