"""Lambda's Kinesis event source mapping, the logic: batches, tumbling windows, retries.

Pure: records and a clock value go in, decisions come out. No boto3, no threads, no reading
of the clock; ``poller.py`` reads the stream, calls the function and keeps real time. The
contract is ``docs/semantics.md`` (rules 1-24); the numbers in comments refer to it.

A ``ShardProcessor`` is the state of one mapping on one shard. Its loop, as poller.py runs it::

    processor.add_records(records, read_at=now, caught_up=True)   # what a read returned
    action = processor.next_action(now)        # Invoke, Discard or Wait
    processor.complete(result, now)            # after an Invoke: the function's answer

Assumed decisions
-----------------
AWS documents none of these; the local cloud decides them as follows, and the lab's docs
must say they are guesses:

- Window membership uses the arrival time rounded to the millisecond, the same value the
  function sees in ``approximateArrivalTimestamp`` (rule 5).
- The final invocation of a window carries ``Records: []`` and the window's last state
  (rule 10). It is sent as soon as a record of a later window is read, or once a read made
  at or after ``window.end`` finds no more record of the window (rule 11, timer-triggered).
- The final invocation's response must be a JSON object with a ``state`` key like every
  other invocation of a window (rule 8); a response without it is a failure, and a failing
  final invocation is retried until it succeeds (rule 12).
- Early termination (rule 9): a returned state over 1,048,576 bytes is dropped, the batch
  that produced it counts as processed, and every later invocation of that window,
  including its final one, has ``isWindowTerminatedEarly: true``; the next one starts from
  ``state: {}``. The window keeps its bounds and still gets exactly one final invocation.
- A window opens when its first batch is handed to the function. Records discarded as too
  old before that (rule 15) open no window. A window whose batches were all discarded after
  failing still gets its final invocation, with the last state that succeeded.
- ``ReportBatchItemFailures`` with a tumbling window: the returned state is kept (it is the
  function's account of the records before the first failed one), the checkpoint moves to
  just before that record, and the rest of the batch is handled as a failed batch (retried
  whole, not halved, even with bisect on, as AWS documents: rule 21).
  An unknown, empty or missing ``itemIdentifier`` fails the whole batch, as AWS documents.
- Bisecting: both halves keep the failed batch's retry count and invoke count; only failures
  of a batch that is not split use up a retry (rule 14).
- Between failed tries the shard waits ``retry_base_delay_s`` doubled per consecutive
  failure, up to ``retry_max_delay_s`` (0.1 s and 1 s), both shrunk in proportion for a
  tumbling window shorter than 60 s (``Settings.retry_delay_s``); a service error before
  the function ran (the runtime could not be reached) backs off the same way but uses up
  no retry.
- A record whose arrival time lies in a window that has already closed (the clock went
  backwards) joins the window after the last closed one, so no window gets two finals.
- The failure record of records given up for their age (rule 15) has no
  ``responseContext``, as AWS's; when the function never saw them its
  ``approximateInvokeCount`` is 0 (AWS's one recorded case of this counts 1).
- ``ParallelizationFactor`` > 1 (allowed without a tumbling window) is accepted and
  reported, but each shard is still processed one batch at a time, in order.
- ``FilterCriteria`` is rejected: the local cloud does not filter records.
- The checkpoint of a tumbling-window mapping advances when a window closes (its final
  invocation succeeded); without a window, after each batch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .events import ShardContext, StreamRecord, Window, build_event, window_for
from .responses import InvocationResult, Outcome, interpret
from .settings import PAYLOAD_LIMIT_BYTES, STATE_LIMIT_BYTES, Settings

__all__ = ["InvocationResult", "Outcome", "ShardProcessor", "interpret"]

CONDITION_RETRIES = "RetryAttemptsExhausted"
CONDITION_AGE = "RecordAgeExceeded"
RESULT_NONE = "No records processed"
RESULT_OK = "OK"
RESULT_PROBLEM = "PROBLEM: Function call failed"


# --------------------------------------------------------------------------- actions


@dataclass
class Invoke:
    """Call the function with ``payload``; then report the answer to ``complete``."""

    payload: bytes
    records: list[StreamRecord]
    window: Window | None
    final: bool = False
    try_number: int = 1  # 1 for a batch's first invocation


@dataclass
class Discard:
    """Records given up (rules 13, 15): send a failure record if a destination is set."""

    records: list[StreamRecord]
    condition: str
    invoke_count: int
    status_code: int | None = None
    function_error: str | None = None
    request_id: str | None = None
    executed_version: str = "$LATEST"


@dataclass
class Wait:
    """Nothing to do before ``until`` (epoch seconds) or new records; None: only records."""

    until: float | None = None


Action = Invoke | Discard | Wait


@dataclass
class _Batch:
    records: list[StreamRecord]
    encoded: list[str]
    window: Window | None
    failures: int = 0  # failed tries that count against MaximumRetryAttempts
    invokes: int = 0


def _split(batch: _Batch, at: int) -> tuple[_Batch, _Batch]:
    def part(lo: int, hi: int | None) -> _Batch:
        return _Batch(batch.records[lo:hi], batch.encoded[lo:hi], batch.window,
                      batch.failures, batch.invokes)

    return part(0, at), part(at, None)


# --------------------------------------------------------------------------- the processor


@dataclass
class ShardProcessor:
    """One mapping on one shard: batches, window state, retries, checkpoint (rules 5-16).

    Example
    -------
    >>> ctx = ShardContext("shardId-000000000000", "arn:s", "us-east-1", "arn:r")
    >>> p = ShardProcessor(Settings(window_seconds=60), ctx)
    >>> import json
    >>> from wildrydes_helpers.local.esm.events import stream_record
    >>> p.add_records([stream_record(1, "k", "e30=", 10.0)], read_at=11.0)
    >>> action = p.next_action(11.0)
    >>> json.loads(action.payload)["window"]
    {'start': '1970-01-01T00:00:00Z', 'end': '1970-01-01T00:01:00Z'}
    >>> p.complete(InvocationResult(b'{"state": {"n": 1}}'), 11.1).ok
    True
    >>> p.add_records([], read_at=60.0)
    >>> p.next_action(60.0).final
    True
    """

    settings: Settings
    context: ShardContext
    pending: deque[StreamRecord] = field(default_factory=deque)
    window: Window | None = None
    state_json: str = "{}"
    terminated_early: bool = False
    checkpoint: int | None = None  # last sequence number whose processing is settled
    position: int | None = None  # last sequence number delivered or given up
    read_horizon: float = float("-inf")  # clock of the last read that reached the shard's end
    last_result: str = RESULT_NONE
    _batches: deque[_Batch] = field(default_factory=deque)
    _outbox: deque[Discard] = field(default_factory=deque)
    _in_flight: Invoke | None = None
    _final_tries: int = 0
    _consecutive_failures: int = 0
    _not_before: float = float("-inf")
    _last_closed_end: int | None = None

    # ---- input

    def add_records(self, records: Iterable[StreamRecord], read_at: float,
                    caught_up: bool = True) -> None:
        """Queue what a read returned; ``caught_up``: the read reached the shard's end.

        Example
        -------
        >>> p = ShardProcessor(Settings(), ShardContext("s", "a", "r", "x"))
        >>> from wildrydes_helpers.local.esm.events import stream_record
        >>> p.add_records([stream_record(1, "k", "", 1.0)], read_at=2.0)
        >>> p.pending_count
        1
        """
        self.pending.extend(records)
        if caught_up:
            self.read_horizon = max(self.read_horizon, read_at)

    @property
    def pending_count(self) -> int:
        return len(self.pending) + sum(len(b.records) for b in self._batches)

    @property
    def busy(self) -> bool:
        """An invocation is in flight: wait for ``complete`` first."""
        return self._in_flight is not None

    def read_wanted(self, now: float) -> bool:
        """True when only a fresh read can tell whether the open window is complete.

        Example
        -------
        >>> p = ShardProcessor(Settings(window_seconds=60), ShardContext("s", "a", "r", "x"))
        >>> p.window = Window(0, 60)
        >>> p.read_wanted(59.0), p.read_wanted(60.0)
        (False, True)
        """
        return (self.window is not None and self.window.end <= now
                and self.read_horizon < self.window.end and not self._has_later_record())

    # ---- decisions

    def next_action(self, now: float) -> Action:
        """What to do now: an Invoke, a Discard, or a Wait.

        Example
        -------
        >>> p = ShardProcessor(Settings(), ShardContext("s", "a", "r", "x"))
        >>> p.next_action(0.0)
        Wait(until=None)
        """
        if self._in_flight is not None:
            raise RuntimeError("an invocation is in flight; call complete() first")
        if self._outbox:
            return self._outbox.popleft()
        if now < self._not_before:
            return Wait(self._not_before)
        if self._batches:
            return self._invoke_batch(now)
        if self._final_due():
            return self._invoke_final()
        if self.pending:
            expired = self._take_expired(self.pending, now)
            if expired:
                return self._discard(expired, CONDITION_AGE, 0)
        if self.pending:
            formed = self._form_batch(now)
            if isinstance(formed, Wait):
                return formed
            self._batches.append(formed)
            return self._invoke_batch(now)
        if self.window is not None:
            return Wait(float(self.window.end))
        return Wait(None)

    def _window_of(self, record: StreamRecord) -> Window | None:
        seconds = self.settings.window_seconds
        if seconds <= 0:
            return None
        window = window_for(record.arrival_ms, seconds)
        if self.window is not None and window.start < self.window.start:
            return self.window
        if self._last_closed_end is not None and window.start < self._last_closed_end:
            return Window(self._last_closed_end, self._last_closed_end + seconds)
        return window

    def _has_later_record(self) -> bool:
        return bool(self.pending) and self._window_of(self.pending[0]) != self.window

    def _final_due(self) -> bool:
        if self.window is None or self._batches:
            return False
        if self.pending:
            return self._window_of(self.pending[0]) != self.window
        return self.read_horizon >= self.window.end

    def _take_expired(self, records: deque[StreamRecord] | list[StreamRecord],
                      now: float) -> list[StreamRecord]:
        max_age = self.settings.max_record_age_s
        if max_age < 0:
            return []
        limit_ms = (now - max_age) * 1000
        count = 0
        for record in records:
            if record.arrival_ms >= limit_ms:
                break
            count += 1
        if isinstance(records, deque):
            return [records.popleft() for _ in range(count)]
        return records[:count]

    def _form_batch(self, now: float) -> _Batch | Wait:
        settings, ctx = self.settings, self.context
        first = self.pending[0]
        window = self._window_of(first)
        budget = PAYLOAD_LIMIT_BYTES - len(self.state_json) - 1024
        taken: list[StreamRecord] = []
        ended_by_window = False
        for record in self.pending:
            if len(taken) >= settings.batch_size:
                break
            if window is not None and self._window_of(record) != window:
                ended_by_window = True
                break
            budget -= ctx.record_size(record)
            if taken and budget < 0:
                break
            taken.append(record)
        full = len(taken) >= settings.batch_size or budget < 0 or ended_by_window
        if window is not None and self.read_horizon >= window.end:
            full = True  # nothing more can join this window
        ready_at = first.arrival + settings.batching_window_s
        if settings.batching_window_s > 0 and not full and now < ready_at:
            return Wait(ready_at)
        for _ in taken:
            self.pending.popleft()
        if window is not None and self.window is None:
            self.window = window
            self.state_json = "{}"
        return _Batch(taken, [ctx.record_json(r) for r in taken], window)

    def _invoke_batch(self, now: float) -> Action:
        batch = self._batches[0]
        expired = self._take_expired(batch.records, now)
        if expired:
            gone, rest = _split(batch, len(expired))
            if rest.records:
                self._batches[0] = rest
            else:
                self._batches.popleft()
            return self._discard(gone.records, CONDITION_AGE, gone.invokes)
        payload = build_event(self.context, batch.encoded, batch.window, self.state_json,
                              final=False, early=self.terminated_early)
        self._in_flight = Invoke(payload, batch.records, batch.window, False,
                                 batch.invokes + 1)
        return self._in_flight

    def _invoke_final(self) -> Invoke:
        assert self.window is not None
        payload = build_event(self.context, [], self.window, self.state_json, final=True,
                              early=self.terminated_early)
        self._in_flight = Invoke(payload, [], self.window, True, self._final_tries + 1)
        return self._in_flight

    def _discard(self, records: list[StreamRecord], condition: str, invokes: int,
                 result: Any = None) -> Discard:
        self._settle(records)
        return Discard(
            records, condition, invokes,
            status_code=getattr(result, "status_code", None),
            function_error=getattr(result, "function_error", None) if result else None,
            request_id=getattr(result, "request_id", None) or None,
            executed_version=getattr(result, "executed_version", None) or "$LATEST",
        )

    def _settle(self, records: list[StreamRecord]) -> None:
        if records:
            self.position = records[-1].sequence_number
        if self.window is None:
            self.checkpoint = self.position

    # ---- results

    def complete(self, result: Any, now: float) -> Outcome:
        """Take the function's answer to the in-flight invocation and move on.

        Example
        -------
        >>> p = ShardProcessor(Settings(), ShardContext("s", "a", "r", "x"))
        >>> from wildrydes_helpers.local.esm.events import stream_record
        >>> p.add_records([stream_record(1, "k", "", 1.0)], read_at=2.0)
        >>> _ = p.next_action(2.0)
        >>> p.complete(InvocationResult(function_error="Unhandled"), 2.1).ok, p.last_result
        (False, 'PROBLEM: Function call failed')
        """
        action = self._in_flight
        if action is None:
            raise RuntimeError("no invocation is in flight")
        self._in_flight = None
        tumbling = action.window is not None
        outcome = interpret(
            result, tumbling=tumbling,
            report_item_failures=self.settings.report_item_failures and not action.final,
            sequence_numbers=[r.sequence_number for r in action.records],
        )
        self.last_result = RESULT_OK if outcome.ok and outcome.failed_from is None \
            else RESULT_PROBLEM
        if action.final:
            self._final_done(outcome, now)
            return outcome
        batch = self._batches[0]
        batch.invokes += 1
        if outcome.ok and outcome.failed_from is None:
            self._batches.popleft()
            self._consecutive_failures = 0
            self._keep_state(outcome)
            self._settle(batch.records)
            return outcome
        partial = outcome.ok and outcome.failed_from is not None
        if partial and outcome.failed_from:
            done, batch = _split(batch, outcome.failed_from)
            self._batches[0] = batch
            self._keep_state(outcome)
            self._settle(done.records)
        # A partial failure is already "bisected at the returned sequence number": AWS retries
        # only the remaining records, not halves of them (rule 21).
        self._batch_failed(batch, result, now, bisect=self.settings.bisect and not partial)
        return outcome

    def not_delivered(self, now: float) -> None:
        """The invocation never reached the function (a service error): retry, uncounted.

        Example
        -------
        >>> p = ShardProcessor(Settings(), ShardContext("s", "a", "r", "x"))
        >>> from wildrydes_helpers.local.esm.events import stream_record
        >>> p.add_records([stream_record(1, "k", "", 1.0)], read_at=2.0)
        >>> _ = p.next_action(2.0); p.not_delivered(2.0)
        >>> p.next_action(2.0)
        Wait(until=2.1)
        """
        if self._in_flight is None:
            raise RuntimeError("no invocation is in flight")
        self._in_flight = None
        self._back_off(now)

    def _keep_state(self, outcome: Outcome) -> None:
        if self.window is None or outcome.state is None:
            return
        if len(outcome.state_json.encode()) > STATE_LIMIT_BYTES:
            self.state_json = "{}"
            self.terminated_early = True
        else:
            self.state_json = outcome.state_json

    def _final_done(self, outcome: Outcome, now: float) -> None:
        if not outcome.ok:
            self._final_tries += 1
            self._back_off(now)
            return
        assert self.window is not None
        self._last_closed_end = self.window.end
        self.window = None
        self.state_json = "{}"
        self.terminated_early = False
        self._final_tries = 0
        self._consecutive_failures = 0
        self.checkpoint = self.position

    def _batch_failed(self, batch: _Batch, result: Any, now: float, bisect: bool) -> None:
        self._back_off(now)
        if bisect and len(batch.records) > 1:
            first, second = _split(batch, len(batch.records) // 2)
            self._batches.popleft()
            self._batches.extendleft((second, first))
            return
        batch.failures += 1
        limit = self.settings.max_retry_attempts
        if limit >= 0 and batch.failures > limit:
            self._batches.popleft()
            self._outbox.append(self._discard(batch.records, CONDITION_RETRIES,
                                              batch.invokes, result))

    def _back_off(self, now: float) -> None:
        self._consecutive_failures += 1
        self._not_before = now + self.settings.retry_delay_s(self._consecutive_failures)
