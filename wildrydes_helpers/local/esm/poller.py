"""One shard of one event source mapping, polled: read records, run the processor's actions.

A ``ShardPoller`` reads its shard through the local cloud's moto door (``cloud.backends``):
up to 10,000 records a read (like GetRecords), once a second when caught up (rule 19), at
once when more are waiting, and right after a window's end so the final invocation goes out
without waiting for the next poll. It invokes the function through ``cloud.runtime``, one
invocation at a time per shard, and never holds moto's lock while the function runs. The
decisions are the pure processor's (processor.py); this module gives it real time.

Example
-------
>>> poller = ShardPoller(cloud, mapping, shard, poll_interval=1.0)  # doctest: +SKIP
>>> poller.start()                                                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Protocol

from ..context import LocalCloud
from ..moto_backends import ShardCursor
from .events import ShardContext, StreamRecord
from .failures import deliver_failure, failure_record
from .processor import RESULT_PROBLEM, Discard, Invoke, ShardProcessor
from .settings import READ_LIMIT

log = logging.getLogger("wildrydes.local.esm")

WAKE_AFTER_WINDOW_S = 0.005  # read just after window.end, so the read's clock is past it


class PolledMapping(Protocol):
    """What a poller reads of its mapping (service.MappingEntry)."""

    uuid: str
    region: str
    function_name: str
    function_arn: str
    last_result: str

    @property
    def stream_name(self) -> str: ...

    @property
    def destination(self) -> str | None: ...

    def context(self, shard_id: str) -> ShardContext: ...


@dataclass
class ShardState:
    """A shard's reading position (its cursor in the stream) and its processor."""

    shard_id: str
    processor: ShardProcessor
    cursor: ShardCursor = field(default_factory=ShardCursor)
    more_behind: bool = True
    next_read_at: float = 0.0


class ShardPoller(threading.Thread):
    """Reads one shard for one mapping and hands its records to the function."""

    def __init__(self, cloud: LocalCloud, mapping: PolledMapping, shard: ShardState,
                 poll_interval: float) -> None:
        super().__init__(name=f"esm-{mapping.uuid[:8]}-{shard.shard_id[-4:]}", daemon=True)
        self.cloud = cloud
        self.mapping = mapping
        self.shard = shard
        self.poll_interval = poll_interval
        self.stopping = False
        self._wake = threading.Event()

    def stop(self) -> None:
        """Ask the poller to end after its current step."""
        self.stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Cut short the poller's wait (its settings changed)."""
        self._wake.set()

    def run(self) -> None:
        try:
            self._loop()
        except Exception:  # keep the local cloud up; the supervisor starts a new poller
            log.exception("poller %s failed", self.name)

    def _loop(self) -> None:
        processor = self.shard.processor
        if processor.busy:  # a poller before this one died mid-invocation: try it again
            processor.not_delivered(time.time())
        while not self.stopping:
            now = time.time()
            if self._read_due(now):
                self._read()
            action = processor.next_action(time.time())
            if isinstance(action, Invoke):
                self._invoke(action)
                continue
            if isinstance(action, Discard):
                self._send_failure(action)
                continue
            wake_at = self.shard.next_read_at
            if action.until is not None:
                wake_at = min(wake_at, action.until + WAKE_AFTER_WINDOW_S)
            timeout = wake_at - time.time()
            if timeout > 0:
                self._wake.wait(min(timeout, self.poll_interval))
                self._wake.clear()

    def _read_due(self, now: float) -> bool:
        processor, shard = self.shard.processor, self.shard
        pending = processor.pending_count
        if pending >= READ_LIMIT:
            return False
        if shard.more_behind and pending < processor.settings.batch_size:
            return True
        return now >= shard.next_read_at or processor.read_wanted(now)

    def _read(self) -> None:
        shard, mapping, backends = self.shard, self.mapping, self.cloud.backends
        with backends.lock:  # the read's clock comes before any record it could miss
            now = time.time()
            raw, caught_up = backends.read_shard(mapping.region, mapping.stream_name,
                                                 shard.shard_id, shard.cursor, READ_LIMIT)
        shard.more_behind = not caught_up
        shard.next_read_at = now + self.poll_interval
        records_in = [StreamRecord(r.sequence_number, r.partition_key, r.data,
                                   round(r.created_at * 1000)) for r in raw]
        shard.processor.add_records(records_in, read_at=now, caught_up=caught_up)

    def _invoke(self, action: Invoke) -> None:
        mapping, processor = self.mapping, self.shard.processor
        runtime = self.cloud.runtime
        try:
            if runtime is None:
                raise RuntimeError("the local cloud's runtime is not running")
            result = runtime.invoke(mapping.function_arn, action.payload, mapping.region)
        except Exception as exc:  # the function was never reached: retry, uncounted
            log.warning("mapping %s could not invoke %s: %s", mapping.uuid,
                        mapping.function_name, exc)
            processor.not_delivered(time.time())
            mapping.last_result = processor.last_result = RESULT_PROBLEM
            return
        outcome = processor.complete(result, time.time())
        mapping.last_result = processor.last_result
        if not outcome.ok:
            log.info("mapping %s, %s: invocation failed: %s", mapping.uuid,
                     self.shard.shard_id, outcome.reason)

    def _send_failure(self, discard: Discard) -> None:
        mapping = self.mapping
        message = failure_record(discard, mapping.context(self.shard.shard_id),
                                 mapping.function_arn, str(uuidlib.uuid4()), time.time())
        destination = mapping.destination
        if not destination:
            log.warning("mapping %s discarded %d record(s) of %s (%s); no on-failure "
                        "destination is set", mapping.uuid, len(discard.records),
                        self.shard.shard_id, discard.condition)
            return
        try:
            deliver_failure(self.cloud.backends, destination, json.dumps(message))
        except Exception as exc:
            log.warning("mapping %s could not send a failure record to %s: %s",
                        mapping.uuid, destination, exc)
