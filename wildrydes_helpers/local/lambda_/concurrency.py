"""How many invocations of one function may run at once in the local cloud, and the throttle.

Each running invocation holds one worker, so this caps the worker processes a function can
have busy: a runaway caller (or an attacker) cannot fill the student's machine with them.
Over the cap, Invoke answers as Lambda does when a function is throttled: HTTP 429
``TooManyRequestsException`` with a ``Reason``. A function's reserved concurrency
(PutFunctionConcurrency) lowers its cap, as on AWS; 0 throttles every invocation.

Example
-------
>>> limits = ConcurrencyLimits()
>>> limits.acquire(("us-east-1", "fn"), 1), limits.acquire(("us-east-1", "fn"), 1)
(True, False)
>>> limits.release(("us-east-1", "fn")); limits.running(("us-east-1", "fn"))
0
"""

from __future__ import annotations

import threading
import time

# The most invocations of one function that run at once (each in its own worker process,
# ~15-50 MB each): enough for every shard of the lab's stream and a few direct invokes.
MAX_CONCURRENT_PER_FUNCTION = 10
RESERVED_LIMIT_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
CAP_REASON = "ConcurrentInvocationLimitExceeded"


class TooManyRequests(Exception):
    """The function already runs as many invocations as it may: Lambda's throttle (429).

    Example
    -------
    >>> TooManyRequests("fn", 10, reserved=None).reason
    'ConcurrentInvocationLimitExceeded'
    """

    def __init__(self, function: str, limit: int, reserved: int | None) -> None:
        self.reason = CAP_REASON if reserved is None else RESERVED_LIMIT_REASON
        if reserved is None:
            why = (f"it already runs {limit} invocations at once, the local cloud's limit "
                   f"per function (MAX_CONCURRENT_PER_FUNCTION)")
        elif reserved == 0:
            why = ("its reserved concurrency is 0, so every invocation is throttled; "
                   "remove it with DeleteFunctionConcurrency")
        else:
            why = f"it already runs {limit} invocations at once, its reserved concurrency"
        super().__init__(f"Rate Exceeded. Function '{function}' was throttled: {why}. "
                         f"Retry later (boto3 retries a throttle by itself).")


def function_limit(reserved: int | None) -> int:
    """The cap for a function with this reserved concurrency (None when it has none).

    Example
    -------
    >>> function_limit(None), function_limit(2), function_limit(500)
    (10, 2, 10)
    """
    if reserved is None:
        return MAX_CONCURRENT_PER_FUNCTION
    return max(0, min(int(reserved), MAX_CONCURRENT_PER_FUNCTION))


class ConcurrencyLimits:
    """Counts the running invocations of each function (all its versions together)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running: dict[tuple[str, str], int] = {}

    def acquire(self, key: tuple[str, str], limit: int, wait_s: float = 0.0) -> bool:
        """Take one of ``limit`` slots of ``key``, waiting up to ``wait_s``; False if none.

        Example
        -------
        >>> ConcurrencyLimits().acquire(("r", "fn"), 0)
        False
        """
        deadline = time.monotonic() + wait_s
        with self._changed:
            while self._running.get(key, 0) >= limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            self._running[key] = self._running.get(key, 0) + 1
            return True

    def release(self, key: tuple[str, str]) -> None:
        """Give back one slot of ``key``."""
        with self._changed:
            left = self._running.get(key, 0) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)
            self._changed.notify_all()

    def running(self, key: tuple[str, str]) -> int:
        """How many invocations of ``key`` run now."""
        with self._changed:
            return self._running.get(key, 0)
