"""What a Kinesis event source mapping hands the function: records, windows, events.

Records and tumbling windows (rules 2, 3, 5) and the invocation event as JSON text
(rules 1-4), built without dicts for speed. Pure: no clock, no I/O.

Example
-------
>>> window_for(61_000, 60)
Window(start=60, end=120)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quote

RECORD_JSON_OVERHEAD = 320  # the bytes around one record's data besides the ARNs


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


@dataclass(frozen=True)
class ShardContext:
    """What every event of one shard repeats: ids, ARNs, region, the function's role."""

    shard_id: str
    stream_arn: str
    region: str
    role_arn: str

    def record_json(self, record: StreamRecord) -> str:
        """One record of the event as JSON text (rule 2), built without a dict for speed.

        Example
        -------
        >>> import json
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
    >>> import json
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
