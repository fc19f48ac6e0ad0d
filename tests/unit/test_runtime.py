"""The local Lambda runtime's pure parts: Lambda's wording, log capture, context, pool bookkeeping.

The tests that invoke functions on a local cloud are in tests/local_cloud/test_runtime.py.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from wildrydes_helpers.local.lambda_.logs import (
    exit_reason,
    log_stream_name,
    report_line,
    timeout_message,
)
from wildrydes_helpers.local.lambda_.pool import IDLE_LIMIT_S, WorkerPool
from wildrydes_helpers.local.lambda_.worker import (
    LambdaContext,
    LogCapture,
    error_log,
    error_payload,
)

STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def test_exit_reason_words_like_lambda() -> None:
    assert exit_reason(-9) == "signal: killed"
    assert exit_reason(-11) == "signal: segmentation fault"
    assert exit_reason(1) == "exit status 1"


def test_report_line_format() -> None:
    line = report_line("r1", 12.345, 256, 40, init_ms=55.5)
    assert line == ("REPORT RequestId: r1\tDuration: 12.35 ms\tBilled Duration: 13 ms\t"
                    "Memory Size: 256 MB\tMax Memory Used: 40 MB\tInit Duration: 55.50 ms\n")


def test_timeout_message_format() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert timeout_message("rid", 1, when) == \
        "2024-01-02T03:04:05.678Z rid Task timed out after 1.00 seconds"


def test_log_stream_name_format() -> None:
    assert STREAM_NAME.match(log_stream_name())


def test_log_capture_splits_lines_and_flushes_the_rest() -> None:
    sent: list[str] = []
    capture = LogCapture(lambda ts, msg: sent.append(msg))
    capture.write("one\ntwo")
    assert sent == ["one\n"]
    capture.flush()
    assert sent == ["one\n", "two\n"]


def test_context_remaining_time_counts_down() -> None:
    ctx = LambdaContext("fn", "$LATEST", "arn", 128, "rid", "/aws/lambda/fn", "s",
                        time.time() * 1000 + 500)
    first = ctx.get_remaining_time_in_millis()
    assert 0 < first <= 500
    deadline_passed = LambdaContext("fn", "$LATEST", "arn", 128, "rid", "g", "s", 0)
    assert deadline_passed.get_remaining_time_in_millis() == 0


def test_error_payload_and_log_shape() -> None:
    try:
        raise KeyError("Name")
    except KeyError as exc:
        payload = error_payload(exc, "rid", skip_frames=0)
    assert payload["errorType"] == "KeyError"
    assert payload["requestId"] == "rid"
    assert any("test_runtime.py" in frame for frame in payload["stackTrace"])
    assert error_log(payload).startswith("[ERROR] KeyError: 'Name'\nTraceback")


class _StubWorker:
    """Stands in for a worker process in pool bookkeeping tests."""

    def __init__(self, spec: object) -> None:
        self.spec, self.stopped, self.idle_since = spec, False, 0.0

    def alive(self) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True


def test_idle_workers_are_reclaimed_after_the_idle_limit() -> None:
    spec = object()
    pool = WorkerPool()
    pool.spec = spec
    old, recent = _StubWorker(spec), _StubWorker(spec)
    for worker, released_at in ((old, 0.0), (recent, 100.0)):
        pool.add(worker)  # type: ignore[arg-type]
        pool.release(worker, healthy=True, now=released_at)  # type: ignore[arg-type]
    assert pool.reap(now=IDLE_LIMIT_S + 50.0) == 1
    assert old.stopped and not recent.stopped
    assert pool.idle == [recent] and pool.workers == {recent}
    assert pool.take(spec) is recent  # the survivor still serves
