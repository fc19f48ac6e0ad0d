"""Lambda's Kinesis event source mapping, the logic: batches, tumbling windows, retries.

Pure: records and a clock value go in, decisions come out. No boto3, no threads, no reading
of the clock; ``esm.py`` reads the stream, calls the function and keeps real time. The
contract is ``SEMANTICS.md`` (rules 1-19); the numbers in comments refer to it.

A ``ShardProcessor`` is the state of one mapping on one shard. Its loop, as esm.py runs it::

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
  just before that record, and the rest of the batch is handled as a failed batch.
  An unknown, empty or missing ``itemIdentifier`` fails the whole batch, as AWS documents.
- Bisecting: both halves keep the failed batch's retry count and invoke count; only failures
  of a batch that is not split use up a retry (rule 14).
- Between failed tries the shard waits ``retry_base_delay_s`` doubled per consecutive
  failure, up to ``retry_max_delay_s``; a service error before the function ran (the
  runtime could not be reached) backs off the same way but uses up no retry.
- A record whose arrival time lies in a window that has already closed (the clock went
  backwards) joins the window after the last closed one, so no window gets two finals.
- The failure record of records that were never invoked (rule 15) has
  ``approximateInvokeCount`` 0 and ``null`` in ``responseContext``.
- ``ParallelizationFactor`` > 1 (allowed without a tumbling window) is accepted and
  reported, but each shard is still processed one batch at a time, in order.
- ``FilterCriteria`` is rejected: the local cloud does not filter records.
- The checkpoint of a tumbling-window mapping advances when a window closes (its final
  invocation succeeded); without a window, after each batch.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

STATE_LIMIT_BYTES = 1_048_576
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
READ_LIMIT = 10_000  # records per GetRecords-equivalent read, as Kinesis allows
POLL_INTERVAL_S = 1.0  # rule 19
RECORD_JSON_OVERHEAD = 320  # the bytes around one record's data besides the ARNs

CONDITION_RETRIES = "RetryAttemptsExhausted"
CONDITION_AGE = "RecordAgeExceeded"
RESULT_NONE = "No records processed"
RESULT_OK = "OK"
RESULT_PROBLEM = "PROBLEM: Function call failed"

STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP")
INT_LIMITS: dict[str, tuple[int, int]] = {
    "BatchSize": (1, 10_000),
    "MaximumBatchingWindowInSeconds": (0, 300),
    "TumblingWindowInSeconds": (0, 900),
    "ParallelizationFactor": (1, 10),
    "MaximumRetryAttempts": (-1, 10_000),
    "MaximumRecordAgeInSeconds": (-1, 604_800),
}
DEFAULTS: dict[str, Any] = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "TumblingWindowInSeconds": 0,
    "ParallelizationFactor": 1,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "FunctionResponseTypes": [],
    "DestinationConfig": {"OnFailure": {}},
}
_UPDATABLE = (*INT_LIMITS, "BisectBatchOnFunctionError", "FunctionResponseTypes",
              "DestinationConfig", "FunctionName", "Enabled")
_IGNORED = ("Tags", "KMSKeyArn", "MetricsConfig", "LoggingConfig")
_NOT_KINESIS = ("Queues", "Topics", "SourceAccessConfigurations", "SelfManagedEventSource",
                "SelfManagedKafkaEventSourceConfig", "AmazonManagedKafkaEventSourceConfig",
                "DocumentDBEventSourceConfig", "ScalingConfig", "ProvisionedPollerConfig")


class InvalidMappingError(ValueError):
    """A mapping setting AWS would reject (InvalidParameterValueException)."""


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value: Any) -> int:
    low, high = INT_LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise InvalidMappingError(f"{name} must be a whole number from {low} to {high}, "
                                  f"not {value!r}.")
    value = int(value)
    if not low <= value <= high:
        raise InvalidMappingError(f"{name}={value} is out of range: use {low} to {high}.")
    if name == "MaximumRecordAgeInSeconds" and -1 < value < 60:
        raise InvalidMappingError(
            f"MaximumRecordAgeInSeconds={value} is out of range: use -1 (no limit) or "
            "60 to 604800.")
    return value


def _check_destination(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidMappingError("DestinationConfig must be an object such as "
                                  '{"OnFailure": {"Destination": "<SQS queue or SNS topic ARN>"}}.')
    if value.get("OnSuccess"):
        raise InvalidMappingError("DestinationConfig.OnSuccess is not supported for Kinesis "
                                  "event sources; use OnFailure.")
    on_failure = value.get("OnFailure") or {}
    destination = on_failure.get("Destination") if isinstance(on_failure, Mapping) else None
    if destination is None:
        return {"OnFailure": {}}
    parts = str(destination).split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] not in ("sqs", "sns"):
        raise InvalidMappingError(
            f"DestinationConfig.OnFailure.Destination {destination!r} is not an SQS queue or "
            "SNS topic ARN (arn:aws:sqs:REGION:ACCOUNT:NAME or arn:aws:sns:...).")
    return {"OnFailure": {"Destination": str(destination)}}


def validate_mapping(params: Mapping[str, Any],
                     current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check Create (``current`` None) or Update settings as AWS does; return the full set.

    Parameters
    ----------
    params : the request's fields (CreateEventSourceMapping or UpdateEventSourceMapping).
    current : the mapping's settings before an update, or None for a create.

    Returns
    -------
    dict
        Every setting of the mapping (defaults filled in), plus ``Enabled``.

    Raises
    ------
    InvalidMappingError
        With a message naming the setting and its allowed values.

    Example
    -------
    >>> validate_mapping({"StartingPosition": "LATEST", "TumblingWindowInSeconds": 60})["BatchSize"]
    100
    """
    creating = current is None
    for key in _NOT_KINESIS:
        if params.get(key) is not None:
            raise InvalidMappingError(f"{key} is not valid for a Kinesis event source.")
    if params.get("FilterCriteria"):
        raise InvalidMappingError("FilterCriteria is not supported by the local cloud; "
                                  "filter the records inside the function instead.")
    if not creating:
        for key in ("StartingPosition", "StartingPositionTimestamp", "EventSourceArn"):
            if key in params:
                raise InvalidMappingError(f"{key} cannot be changed by an update; delete the "
                                          "mapping and create a new one.")
    out: dict[str, Any] = dict(DEFAULTS) if creating else dict(current or {})
    if creating:
        out["Enabled"] = True
        position = params.get("StartingPosition")
        if position is None:
            raise InvalidMappingError("StartingPosition is required for a Kinesis event "
                                      "source: use LATEST, TRIM_HORIZON or AT_TIMESTAMP.")
        if position not in STARTING_POSITIONS:
            raise InvalidMappingError(f"StartingPosition {position!r} is not valid: use "
                                      "LATEST, TRIM_HORIZON or AT_TIMESTAMP.")
        stamp = params.get("StartingPositionTimestamp")
        if position == "AT_TIMESTAMP":
            if isinstance(stamp, bool) or not isinstance(stamp, int | float):
                raise InvalidMappingError("StartingPosition AT_TIMESTAMP needs "
                                          "StartingPositionTimestamp (a time).")
            out["StartingPositionTimestamp"] = float(stamp)
        elif stamp is not None:
            raise InvalidMappingError("StartingPositionTimestamp is only valid with "
                                      "StartingPosition AT_TIMESTAMP.")
        out["StartingPosition"] = position
    for name in INT_LIMITS:
        if params.get(name) is not None:
            out[name] = _check_int(name, params[name])
    if params.get("BisectBatchOnFunctionError") is not None:
        if not isinstance(params["BisectBatchOnFunctionError"], bool):
            raise InvalidMappingError("BisectBatchOnFunctionError must be true or false.")
        out["BisectBatchOnFunctionError"] = params["BisectBatchOnFunctionError"]
    if params.get("Enabled") is not None:
        if not isinstance(params["Enabled"], bool):
            raise InvalidMappingError("Enabled must be true or false.")
        out["Enabled"] = params["Enabled"]
    if params.get("FunctionResponseTypes") is not None:
        types = params["FunctionResponseTypes"]
        if not isinstance(types, list) or any(t != "ReportBatchItemFailures" for t in types):
            raise InvalidMappingError("FunctionResponseTypes may only hold "
                                      "'ReportBatchItemFailures'.")
        out["FunctionResponseTypes"] = sorted(set(types))
    if params.get("DestinationConfig") is not None:
        out["DestinationConfig"] = _check_destination(params["DestinationConfig"])
    if out["TumblingWindowInSeconds"] > 0 and out["ParallelizationFactor"] > 1:
        raise InvalidMappingError(
            "TumblingWindowInSeconds cannot be used with ParallelizationFactor greater than "
            "1: window state is kept per shard. Set ParallelizationFactor to 1.")
    return out


# --------------------------------------------------------------------------- records, windows


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One Kinesis record as the mapping sees it; ``arrival_ms`` is epoch milliseconds."""

    sequence_number: int
    partition_key: str
    data: str  # base64, exactly as stored by Kinesis
    arrival_ms: int

    @property
    def arrival(self) -> float:
        return self.arrival_ms / 1000.0


def stream_record(sequence_number: int | str, partition_key: str, data: str,
                  created_at: float) -> StreamRecord:
    """Build a record; the arrival time is rounded to the millisecond (rule 2).

    Example
    -------
    >>> stream_record("7", "Shadowfax", "e30=", 1700000000.1234).arrival_ms
    1700000000123
    """
    return StreamRecord(int(sequence_number), partition_key, data, round(created_at * 1000))


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """A tumbling window ``[start, end)`` in whole epoch seconds."""

    start: int
    end: int


def window_for(arrival_ms: int, seconds: int) -> Window:
    """The window of a record that arrived at ``arrival_ms`` (rule 5): epoch-aligned.

    Example
    -------
    >>> window_for(59_999, 60), window_for(60_000, 60)
    (Window(start=0, end=60), Window(start=60, end=120))
    """
    length_ms = seconds * 1000
    start = arrival_ms // length_ms * seconds
    return Window(start, start + seconds)


def format_utc(epoch_s: float) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (rule 3).

    Example
    -------
    >>> format_utc(0)
    '1970-01-01T00:00:00Z'
    """
    return datetime.fromtimestamp(int(epoch_s), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc_ms(epoch_s: float) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ``, the time format of failure records.

    Example
    -------
    >>> format_utc_ms(1.5)
    '1970-01-01T00:00:01.500Z'
    """
    ms = round(epoch_s * 1000)
    stamp = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms % 1000:03d}Z"


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class ShardContext:
    """What every event of one shard repeats: ids, ARNs, region, the function's role."""

    shard_id: str
    stream_arn: str
    region: str
    role_arn: str

    def record_tail(self) -> str:
        return (',"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":'
                + _quote(self.shard_id + ":"))

    def record_json(self, record: StreamRecord) -> str:
        """One record of the event as JSON text (rule 2), built without a dict for speed.

        Example
        -------
        >>> ctx = ShardContext("shardId-000000000000", "arn:s", "us-east-1", "arn:r")
        >>> json.loads(ctx.record_json(stream_record(5, "k", "e30=", 2.0)))["eventID"]
        'shardId-000000000000:5'
        """
        seq = str(record.sequence_number)
        ms = record.arrival_ms
        return (
            '{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":'
            + _quote(record.partition_key)
            + ',"sequenceNumber":"' + seq + '","data":' + _quote(record.data)
            + ',"approximateArrivalTimestamp":' + f"{ms // 1000}.{ms % 1000:03d}"
            + '},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":'
            + _quote(f"{self.shard_id}:{seq}")
            + ',"eventName":"aws:kinesis:record","invokeIdentityArn":' + _quote(self.role_arn)
            + ',"awsRegion":' + _quote(self.region)
            + ',"eventSourceARN":' + _quote(self.stream_arn) + "}"
        )

    def record_size(self, record: StreamRecord) -> int:
        """A close upper estimate of ``len(record_json(record))``, for the 6 MB limit."""
        return (len(record.data) + 2 * len(record.partition_key) + len(self.shard_id)
                + len(self.role_arn) + len(self.stream_arn) + len(self.region)
                + RECORD_JSON_OVERHEAD)


def build_event(ctx: ShardContext, records_json: list[str], window: Window | None = None,
                state_json: str = "{}", final: bool = False, early: bool = False) -> bytes:
    """The event of one invocation as UTF-8 JSON (rules 1-4).

    Without a ``window`` it is the plain ``{"Records": [...]}`` of rule 4.

    Example
    -------
    >>> ctx = ShardContext("shardId-000000000000", "arn:s", "us-east-1", "arn:r")
    >>> sorted(json.loads(build_event(ctx, [], Window(0, 60), final=True)))[:3]
    ['Records', 'eventSourceARN', 'isFinalInvokeForWindow']
    """
    body = '{"Records":[' + ",".join(records_json) + "]"
    if window is None:
        return (body + "}").encode()
    return (
        body + ',"window":{"start":"' + format_utc(window.start) + '","end":"'
        + format_utc(window.end) + '"},"state":' + state_json
        + ',"shardId":' + _quote(ctx.shard_id) + ',"eventSourceARN":' + _quote(ctx.stream_arn)
        + ',"isFinalInvokeForWindow":' + ("true" if final else "false")
        + ',"isWindowTerminatedEarly":' + ("true" if early else "false") + "}"
    ).encode()


# --------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class InvocationResult:
    """What the function answered; the runtime's InvokeResult has the same fields."""

    payload: bytes = b"null"
    function_error: str | None = None
    status_code: int = 200
    request_id: str = ""


@dataclass(frozen=True)
class Outcome:
    """How the mapping reads a response: success, failure, or success up to ``failed_from``."""

    ok: bool
    state: dict[str, Any] | None = None
    state_json: str = "{}"
    failed_from: int | None = None  # index of the first failed record (partial success)
    reason: str = ""


def _item_failures(response: Any, seqs: list[int]) -> int | None | str:
    """Index of the lowest failed record, None if none failed, or a reason to fail all."""
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return "batchItemFailures is not a list"
    index = {str(s): i for i, s in enumerate(seqs)}
    lowest = len(seqs)
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if ident is None or str(ident) not in index:
            return f"batchItemFailures names an unknown itemIdentifier {ident!r}"
        lowest = min(lowest, index[str(ident)])
    return lowest


def interpret(result: Any, *, tumbling: bool, report_item_failures: bool = False,
              sequence_numbers: list[int] | None = None) -> Outcome:
    """Decide whether an invocation succeeded (rules 8, 13) and what it returned.

    Example
    -------
    >>> interpret(InvocationResult(b'{"state": {"n": 1}}'), tumbling=True).state
    {'n': 1}
    >>> interpret(InvocationResult(b'{"n": 1}'), tumbling=True).ok
    False
    """
    if result.function_error:
        return Outcome(False, reason=f"function error ({result.function_error})")
    if not 200 <= int(result.status_code) < 300:
        return Outcome(False, reason=f"status code {result.status_code}")
    if not tumbling and not report_item_failures:
        return Outcome(True)
    try:
        response = json.loads(result.payload or b"null")
    except ValueError:
        return Outcome(False, reason="the response is not JSON")
    state: dict[str, Any] | None = None
    state_json = "{}"
    if tumbling:
        if not isinstance(response, dict) or not isinstance(response.get("state"), dict):
            return Outcome(False, reason="the response is not a JSON object with a 'state' "
                                         "object (a tumbling-window function must return "
                                         "{'state': {...}})")
        state = response["state"]
        state_json = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    failed_from: int | None = None
    if report_item_failures:
        found = _item_failures(response, sequence_numbers or [])
        if isinstance(found, str):
            return Outcome(False, reason=found)
        failed_from = found
    return Outcome(True, state, state_json, failed_from)


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
class Settings:
    """The mapping's settings that steer the logic (a subset of its API fields)."""

    batch_size: int = 100
    window_seconds: int = 0
    max_retry_attempts: int = -1
    bisect: bool = False
    max_record_age_s: int = -1
    batching_window_s: int = 0
    report_item_failures: bool = False
    retry_base_delay_s: float = 0.1
    retry_max_delay_s: float = 1.0

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any], **extra: Any) -> Settings:
        """Settings from validated API fields (see ``validate_mapping``).

        Example
        -------
        >>> Settings.from_mapping({"BatchSize": 5}).batch_size
        5
        """
        full = {**DEFAULTS, **cfg}
        return cls(
            batch_size=full["BatchSize"], window_seconds=full["TumblingWindowInSeconds"],
            max_retry_attempts=full["MaximumRetryAttempts"],
            bisect=bool(full["BisectBatchOnFunctionError"]),
            max_record_age_s=full["MaximumRecordAgeInSeconds"],
            batching_window_s=full["MaximumBatchingWindowInSeconds"],
            report_item_failures="ReportBatchItemFailures" in full["FunctionResponseTypes"],
            **extra,
        )


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
        if outcome.ok and outcome.failed_from:
            done, batch = _split(batch, outcome.failed_from)
            self._batches[0] = batch
            self._keep_state(outcome)
            self._settle(done.records)
        self._batch_failed(batch, result, now)
        return outcome

    def not_delivered(self, now: float) -> None:
        """The invocation never reached the function (a service error): retry, uncounted.

        Example
        -------
        >>> p = ShardProcessor(Settings(), ShardContext("s", "a", "r", "x"))
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

    def _batch_failed(self, batch: _Batch, result: Any, now: float) -> None:
        self._back_off(now)
        if self.settings.bisect and len(batch.records) > 1:
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
        delay = self.settings.retry_base_delay_s * 2 ** (self._consecutive_failures - 1)
        self._not_before = now + min(delay, self.settings.retry_max_delay_s)


def failure_record(discard: Discard, ctx: ShardContext, function_arn: str, request_id: str,
                   now: float) -> dict[str, Any]:
    """The on-failure destination's message for discarded records (rule 13): no data.

    Example
    -------
    >>> ctx = ShardContext("shardId-000000000000", "arn:s", "us-east-1", "arn:r")
    >>> d = Discard([stream_record(1, "k", "", 1.0)], CONDITION_RETRIES, 3, 200, "Unhandled")
    >>> failure_record(d, ctx, "arn:f", "id", 5.0)["KinesisBatchInfo"]["batchSize"]
    1
    """
    first, last = discard.records[0], discard.records[-1]
    invoked = discard.invoke_count > 0
    return {
        "requestContext": {
            "requestId": discard.request_id or request_id,
            "functionArn": function_arn,
            "condition": discard.condition,
            "approximateInvokeCount": discard.invoke_count,
        },
        "responseContext": {
            "statusCode": discard.status_code if invoked else None,
            "executedVersion": discard.executed_version if invoked else None,
            "functionError": discard.function_error if invoked else None,
        },
        "version": "1.0",
        "timestamp": format_utc_ms(now),
        "KinesisBatchInfo": {
            "shardId": ctx.shard_id,
            "startSequenceNumber": str(first.sequence_number),
            "endSequenceNumber": str(last.sequence_number),
            "approximateArrivalOfFirstRecord": format_utc_ms(first.arrival),
            "approximateArrivalOfLastRecord": format_utc_ms(last.arrival),
            "batchSize": len(discard.records),
            "streamArn": ctx.stream_arn,
        },
    }
