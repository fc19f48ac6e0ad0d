"""Put records into Kinesis with retries, and book every accepted one in the ledger.

Throttled or briefly failing requests are retried with backoff; a record given up on is
counted, never dropped silently.

Example
-------
>>> import json
>>> from wildrydes_helpers.ledger import Ledger
>>> class Kinesis:
...     def put_record(self, **kw):
...         return {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}
>>> led = Ledger(stream="s", window_seconds=60)
>>> sender = Sender(Kinesis(), "s", led, batch=False, clock=lambda: 0.0, sleep=lambda s: None)
>>> sender.send([{"Name": "Shadowfax", "Distance": 30.0}])
>>> led.unicorns["Shadowfax"].records, sender.failed
(1, 0)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.exceptions

from ..errors import RETRYABLE_CODES, error_code
from ..ledger import Ledger

BATCH_ABOVE_PER_S = 5.0  # above this many records a second, send with PutRecords
MAX_BATCH = 500  # PutRecords' limit
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.05
BACKOFF_MAX_S = 2.0

Record = dict[str, Any]


class Sender:
    """Puts records (one by one, or in batches of up to MAX_BATCH) with retries."""

    def __init__(self, kinesis: Any, stream: str, ledger: Ledger, batch: bool,
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.kinesis, self.stream, self.ledger, self.batch = kinesis, stream, ledger, batch
        self.clock, self.sleep, self.max_attempts = clock, sleep, max_attempts
        self.failed = 0
        self.retries = 0

    def send(self, records: list[Record]) -> None:
        """Send ``records``; what Kinesis never accepts is counted in ``failed``."""
        if self.batch:
            for i in range(0, len(records), MAX_BATCH):
                self._with_retries(records[i:i + MAX_BATCH], self._put_records)
        else:
            for rec in records:
                self._with_retries([rec], self._put_record)

    def _with_retries(self, pending: list[Record],
                      put: Callable[[list[Record]], list[Record]]) -> None:
        for attempt in range(self.max_attempts):
            try:
                pending = put(pending)
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) not in RETRYABLE_CODES:
                    raise
            else:
                if not pending:
                    return
            if attempt + 1 < self.max_attempts:
                self.retries += 1
                self.sleep(min(BACKOFF_BASE_S * 2 ** attempt, BACKOFF_MAX_S))
        self.failed += len(pending)

    def _accept(self, rec: Record, sequence: str, shard: str) -> None:
        self.ledger.add(rec["Name"], float(rec["Distance"]), sequence, shard, self.clock())

    def _put_record(self, recs: list[Record]) -> list[Record]:
        rec = recs[0]
        resp = self.kinesis.put_record(StreamName=self.stream, Data=json.dumps(rec).encode(),
                                       PartitionKey=rec["Name"])
        self._accept(rec, resp["SequenceNumber"], resp["ShardId"])
        return []

    def _put_records(self, recs: list[Record]) -> list[Record]:
        entries = [{"Data": json.dumps(r).encode(), "PartitionKey": r["Name"]} for r in recs]
        resp = self.kinesis.put_records(StreamName=self.stream, Records=entries)
        again = []
        for rec, result in zip(recs, resp["Records"], strict=True):
            if result.get("SequenceNumber") and not result.get("ErrorCode"):
                self._accept(rec, result["SequenceNumber"], result["ShardId"])
            else:
                again.append(rec)
        return again
