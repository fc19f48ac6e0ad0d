"""Read back every record the Kinesis stream holds, with its arrival time (the I/O half of
the reconciliation; reconciliation.py compares what is read here, without any AWS call).

Kinesis keeps each record 24 hours (by default) and sets its ApproximateArrivalTimestamp on
arrival; Lambda's tumbling window puts a record into a window by that time. Reading the stream
from TRIM_HORIZON is therefore the one way to learn in which window each accepted record
belongs, on the local cloud and on AWS alike.

Example
-------
>>> read_stream()                     # doctest: +SKIP
stream wildrydes: 18 records read from 1 shard
>>> window_of(1_700_000_001_999, 2)   # epoch ms -> the start of its window, epoch seconds
1700000000
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import StreamGoneError, StreamReadError, error_code
from .lab_step import lab_step
from .notebook_names import NB_CLEANUP, NB_MONITOR, NB_QUERY, NB_STREAM
from .session import LabSession

# AWS allows 5 GetRecords calls a second per shard; the local cloud has no such limit.
AWS_PACE_S = 0.2
# A safety net, not a limit one meets: 24 hours of one shard at 1,000 records/s in pages of
# 10,000 records is under 9,000 pages.
MAX_PAGES_PER_SHARD = 20_000


@dataclass(frozen=True)
class StreamRecord:
    """One record as GetRecords returned it; ``arrival_ms`` is its arrival, epoch ms.

    Example
    -------
    >>> StreamRecord("shardId-000000000000", "1", 1_700_000_000_250, b"{}").arrival_ms
    1700000000250
    """

    shard_id: str
    sequence: str
    arrival_ms: int
    data: bytes


@dataclass
class StreamRead:
    """Every record read from ``stream``, shard by shard, in each shard's order."""

    stream: str
    shards: list[str]
    records: list[StreamRecord]
    calls: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        shards = f"{len(self.shards)} shard" + ("" if len(self.shards) == 1 else "s")
        return f"stream {self.stream}: {len(self.records)} records read from {shards}"


def window_of(arrival_ms: int, window_seconds: int) -> int:
    """The start (epoch seconds) of the tumbling window holding a record that arrived at
    ``arrival_ms``: floor(t / W) * W on the millisecond, the rule of the local cloud and AWS.

    Example
    -------
    >>> window_of(59_999, 60), window_of(60_000, 60)
    (0, 60)
    """
    return arrival_ms // (window_seconds * 1000) * window_seconds


def arrival_ms(stamp: datetime | float) -> int:
    """Epoch milliseconds of an ApproximateArrivalTimestamp (boto3 gives a datetime).

    Example
    -------
    >>> from datetime import UTC
    >>> arrival_ms(datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC))
    1700000000250
    """
    seconds = stamp.timestamp() if isinstance(stamp, datetime) else float(stamp)
    return round(seconds * 1000)


def _gone(stream: str) -> StreamGoneError:
    return StreamGoneError(
        f"The Kinesis stream {stream} does not exist (any more): {NB_CLEANUP} deletes it, and "
        "with it the records the reconciliation checks the table against. Make a new run: "
        f"run the notebooks from {NB_STREAM} to {NB_MONITOR} again, then {NB_QUERY}, and "
        f"reconcile before {NB_CLEANUP}.")


def list_shards(kinesis: Any, stream: str) -> list[str]:
    """Every shard id of ``stream``, closed ones included, over all ListShards pages.

    Example
    -------
    >>> list_shards(get_session().client("kinesis"), "wildrydes")   # doctest: +SKIP
    ['shardId-000000000000']
    """
    shards: list[str] = []
    kwargs: dict[str, Any] = {"StreamName": stream}
    while True:
        try:
            page = kinesis.list_shards(**kwargs)
        except kinesis.exceptions.ResourceNotFoundException:
            raise _gone(stream) from None
        shards += [s["ShardId"] for s in page.get("Shards", [])]
        token = page.get("NextToken")
        if not token:
            return sorted(shards)
        # With a NextToken, ListShards refuses the stream name: the token carries it.
        kwargs = {"NextToken": token}


def read_shard(kinesis: Any, stream: str, shard_id: str, *, pace_s: float = 0.0,
               sleep: Callable[[float], None] = time.sleep) -> list[StreamRecord]:
    """Every record of one shard, from TRIM_HORIZON until the reader has caught up.

    Caught up means a page with no records and ``MillisBehindLatest == 0`` (AWS may return an
    empty page while still behind), or no NextShardIterator (a closed shard read to its end).

    Example
    -------
    >>> read_shard(get_session().client("kinesis"), "wildrydes",
    ...            "shardId-000000000000")   # doctest: +SKIP
    [StreamRecord(shard_id='shardId-000000000000', sequence='1', ...), ...]
    """
    found: list[StreamRecord] = []

    def iterator() -> str:
        # After an expired iterator (5 minutes) go on after the last record read.
        where: dict[str, str] = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                                  "StartingSequenceNumber": found[-1].sequence} if found
                                 else {"ShardIteratorType": "TRIM_HORIZON"})
        try:
            return str(kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id,
                                                  **where)["ShardIterator"])
        except kinesis.exceptions.ResourceNotFoundException:
            raise _gone(stream) from None

    it: str | None = iterator()
    renewed = False
    for page_number in range(MAX_PAGES_PER_SHARD):
        if page_number and pace_s:
            sleep(pace_s)
        try:
            page = kinesis.get_records(ShardIterator=it)
        except kinesis.exceptions.ResourceNotFoundException:
            raise _gone(stream) from None
        except Exception as exc:
            if error_code(exc) != "ExpiredIteratorException" or renewed:
                raise
            renewed, it = True, iterator()
            continue
        renewed = False
        records = page.get("Records", [])
        found += [StreamRecord(shard_id, str(r["SequenceNumber"]),
                               arrival_ms(r["ApproximateArrivalTimestamp"]), bytes(r["Data"]))
                  for r in records]
        it = page.get("NextShardIterator")
        if not it or (not records and page.get("MillisBehindLatest", 0) == 0):
            return found
    raise StreamReadError(
        f"Shard {shard_id} of {stream} did not end after {MAX_PAGES_PER_SHARD} pages of "
        "records. Stop the producer (stop_producer()), then reconcile again.")


@lab_step(NB_QUERY)
def read_stream(stream: str | None = None, *, session: LabSession | None = None,
                pace_s: float | None = None) -> StreamRead:
    """Every record ``stream`` (default: the lab's) holds, read shard by shard.

    ``pace_s``: pause between two GetRecords calls of one shard; by default none on the local
    cloud and AWS_PACE_S on AWS (its limit is 5 calls a second per shard).

    Example
    -------
    >>> read_stream().records[0].sequence   # doctest: +SKIP
    '1'
    """
    assert session is not None
    name = stream or session.config.stream_name
    kinesis = session.client("kinesis")
    pace = pace_s if pace_s is not None else (0.0 if session.is_local else AWS_PACE_S)
    shards = list_shards(kinesis, name)
    records: list[StreamRecord] = []
    for shard_id in shards:
        records += read_shard(kinesis, name, shard_id, pace_s=pace)
    return StreamRead(name, shards, records)
