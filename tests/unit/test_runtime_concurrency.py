"""Pure parts of the runtime's limits and zygote: slots, reasons, the 429, environments."""

from __future__ import annotations

import json
import threading

from wildrydes_helpers.local.lambda_.concurrency import (
    CAP_REASON,
    MAX_CONCURRENT_PER_FUNCTION,
    RESERVED_LIMIT_REASON,
    ConcurrencyLimits,
    TooManyRequests,
    function_limit,
)
from wildrydes_helpers.local.lambda_.forkserver import zygote_environment
from wildrydes_helpers.local.lambda_.invoke_api import throttled
from wildrydes_helpers.local.lambda_.zygote import _lines

KEY = ("us-east-1", "fn")


def test_slots_are_counted_per_function_up_to_the_limit() -> None:
    limits = ConcurrencyLimits()
    assert all(limits.acquire(KEY, 3) for _ in range(3))
    assert not limits.acquire(KEY, 3)
    assert limits.acquire(("us-east-1", "other"), 3)  # another function has its own slots
    limits.release(KEY)
    assert limits.running(KEY) == 2
    assert limits.acquire(KEY, 3)


def test_a_waiting_acquire_gets_the_slot_released_meanwhile() -> None:
    limits = ConcurrencyLimits()
    assert limits.acquire(KEY, 1)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(limits.acquire(KEY, 1, wait_s=30)))
    waiter.start()
    limits.release(KEY)
    waiter.join(30)
    assert got == [True]
    assert limits.running(KEY) == 1


def test_reserved_concurrency_lowers_the_cap_never_raises_it() -> None:
    assert function_limit(None) == MAX_CONCURRENT_PER_FUNCTION
    assert function_limit(0) == 0
    assert function_limit(3) == 3
    assert function_limit(MAX_CONCURRENT_PER_FUNCTION + 100) == MAX_CONCURRENT_PER_FUNCTION


def test_the_throttle_names_lambdas_reason() -> None:
    assert TooManyRequests("fn", 10, None).reason == CAP_REASON
    assert TooManyRequests("fn", 0, 0).reason == RESERVED_LIMIT_REASON
    assert "DeleteFunctionConcurrency" in str(TooManyRequests("fn", 0, 0))


def test_the_429_has_lambdas_error_shape() -> None:
    response = throttled(TooManyRequests("fn", 2, 2))
    body = json.loads(response.get_data())
    assert response.status_code == 429
    assert response.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert response.headers["Retry-After"] == "1"
    assert body["Reason"] == RESERVED_LIMIT_REASON
    assert body["Type"] == "User"
    assert body["message"].startswith("Rate Exceeded.")


def test_the_zygote_environment_keeps_nothing_of_the_servers() -> None:
    server = {"PATH": "/usr/bin", "LANG": "en_US.UTF-8", "HOME": "/home/s",
              "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_PROFILE": "p",
              "WILDRYDES_HOME": "/h", "PYTHONPATH": "/x", "GITHUB_TOKEN": "t"}
    assert zygote_environment(server) == {"PATH": "/usr/bin", "LANG": "en_US.UTF-8",
                                          "TZ": "UTC"}


def test_zygote_messages_are_taken_line_by_line() -> None:
    buffer = bytearray(b'{"t": "spawn", "id": 1}\n\n{"t": "kill", "pid": 9}\n{"t": "sp')
    assert _lines(buffer) == [{"t": "spawn", "id": 1}, {"t": "kill", "pid": 9}]
    assert bytes(buffer) == b'{"t": "sp'
