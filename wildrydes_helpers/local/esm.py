"""Lambda's Kinesis event source mappings in the local cloud: the moving parts.

The logic (windows, batches, retries, state) is in ``windows.py`` and is pure; this module
gives it real time and real records. It is the only place that reads moto's Kinesis backend
and the clock for the mappings.

- ``EventSourceMappingService`` keeps the mappings in memory (the API in ``esm_api.py`` calls
  it), and a supervisor thread that starts one ``ShardPoller`` per (mapping, shard) while the
  mapping is enabled and stops it when the mapping is disabled or deleted.
- A ``ShardPoller`` reads its shard straight from moto's backend under ``cloud.lock``: up to
  10,000 records a read (like GetRecords), once a second when caught up (rule 19), at once
  when more are waiting, and right after a window's end so the final invocation goes out
  without waiting for the next poll. It invokes the function through ``cloud.runtime``, one
  invocation at a time per shard, and never holds the lock while the function runs.
- Discarded batches go to the mapping's on-failure destination (SQS or SNS), written
  straight into moto's backends.

A disabled mapping keeps each shard's position and window state in memory; enabling it
starts new pollers on the same state, so it resumes from its checkpoint. The mappings live
as long as the local cloud process: a restart forgets them, like the rest of moto's state.
``ParallelizationFactor`` above 1 (allowed without a tumbling window) is stored and shown,
but each shard is processed one batch at a time.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .windows import (
    POLL_INTERVAL_S,
    READ_LIMIT,
    RESULT_NONE,
    Discard,
    InvalidMappingError,
    Invoke,
    Settings,
    ShardContext,
    ShardProcessor,
    StreamRecord,
    failure_record,
    validate_mapping,
)

log = logging.getLogger("wildrydes.local.esm")

SUPERVISE_INTERVAL_S = 0.2
WAKE_AFTER_WINDOW_S = 0.005  # read just after window.end, so the read's clock is past it
SHUTDOWN_TIMEOUT_S = 1.0


class MappingApiError(Exception):
    """An API error with its HTTP status and AWS error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def function_arn(region: str, account_id: str, name: str) -> str:
    """The unqualified ARN of a function.

    Example
    -------
    >>> function_arn("us-east-1", "123456789012", "f")
    'arn:aws:lambda:us-east-1:123456789012:function:f'
    """
    return f"arn:aws:lambda:{region}:{account_id}:function:{name}"


@dataclass
class ShardState:
    """A shard's reading position (the cursor into moto's records) and its processor."""

    shard_id: str
    processor: ShardProcessor
    records_ref: Any = None  # the moto OrderedDict the cursor counts in
    count: int = 0  # how many of its records were read
    last_seq: int | None = None
    more_behind: bool = True
    next_read_at: float = 0.0


@dataclass
class MappingEntry:
    """One event source mapping: its API fields and its shards."""

    uuid: str
    region: str
    account_id: str
    function_name: str
    function_arn: str
    role_arn: str
    stream_arn: str
    config: dict[str, Any]
    state: str = "Creating"
    last_modified: float = field(default_factory=time.time)
    last_result: str = RESULT_NONE
    shards: dict[str, ShardState] = field(default_factory=dict)
    retry_base_delay_s: float = 0.1
    retry_max_delay_s: float = 1.0

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split("/", 1)[1]

    @property
    def enabled(self) -> bool:
        return bool(self.config.get("Enabled", True))

    def settings(self) -> Settings:
        return Settings.from_mapping(self.config, retry_base_delay_s=self.retry_base_delay_s,
                                     retry_max_delay_s=self.retry_max_delay_s)

    def context(self, shard_id: str) -> ShardContext:
        return ShardContext(shard_id, self.stream_arn, self.region, self.role_arn)

    def describe(self) -> dict[str, Any]:
        """The mapping as the Lambda API shows it (EventSourceMappingConfiguration)."""
        cfg = self.config
        out: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": cfg["StartingPosition"],
            "BatchSize": cfg["BatchSize"],
            "MaximumBatchingWindowInSeconds": cfg["MaximumBatchingWindowInSeconds"],
            "ParallelizationFactor": cfg["ParallelizationFactor"],
            "EventSourceArn": self.stream_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified,
            "LastProcessingResult": self.last_result,
            "State": self.state,
            "StateTransitionReason": "User action",
            "DestinationConfig": cfg["DestinationConfig"],
            "MaximumRecordAgeInSeconds": cfg["MaximumRecordAgeInSeconds"],
            "BisectBatchOnFunctionError": cfg["BisectBatchOnFunctionError"],
            "MaximumRetryAttempts": cfg["MaximumRetryAttempts"],
            "TumblingWindowInSeconds": cfg["TumblingWindowInSeconds"],
            "FunctionResponseTypes": cfg["FunctionResponseTypes"],
            "EventSourceMappingArn": (f"arn:aws:lambda:{self.region}:{self.account_id}:"
                                      f"event-source-mapping:{self.uuid}"),
        }
        if "StartingPositionTimestamp" in cfg:
            out["StartingPositionTimestamp"] = cfg["StartingPositionTimestamp"]
        return out


class ShardPoller(threading.Thread):
    """Reads one shard for one mapping and hands its records to the function."""

    def __init__(self, service: EventSourceMappingService, mapping: MappingEntry,
                 shard: ShardState) -> None:
        super().__init__(name=f"esm-{mapping.uuid[:8]}-{shard.shard_id[-4:]}", daemon=True)
        self.service = service
        self.cloud = service.cloud
        self.mapping = mapping
        self.shard = shard
        self.stopping = False
        self._wake = threading.Event()

    def stop(self) -> None:
        self.stopping = True
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        try:
            self._loop()
        except Exception:  # keep the local cloud up; the supervisor starts a new poller
            log.exception("poller %s failed", self.name)

    def _loop(self) -> None:
        processor = self.shard.processor
        interval = self.service.poll_interval
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
                self._wake.wait(min(timeout, interval))
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
        shard, mapping = self.shard, self.mapping
        with self.cloud.lock:
            now = time.time()
            stream = self.cloud.kinesis_backend(mapping.region).streams.get(mapping.stream_name)
            found = stream.shards.get(shard.shard_id) if stream is not None else None
            raw: list[Any] = []
            caught_up = found is not None
            if found is not None:
                records = found.records
                if records is not shard.records_ref or len(records) < shard.count:
                    # Resharding replaces a shard's records: find our place again by number.
                    keys = list(records.keys())
                    shard.count = (0 if shard.last_seq is None
                                   else bisect.bisect_right(keys, shard.last_seq))
                    shard.records_ref = records
                new = len(records) - shard.count
                take = min(new, READ_LIMIT)
                if take:
                    raw = list(islice(reversed(records.values()), new - take, new))
                    raw.reverse()
                    shard.count += take
                    shard.last_seq = raw[-1].sequence_number
                caught_up = take == new
        shard.more_behind = not caught_up
        shard.next_read_at = now + self.service.poll_interval
        records_in = [StreamRecord(r.sequence_number, r.partition_key, r.data,
                                   round(r.created_at * 1000)) for r in raw]
        shard.processor.add_records(records_in, read_at=now, caught_up=caught_up)

    def _invoke(self, action: Invoke) -> None:
        mapping, processor = self.mapping, self.shard.processor
        runtime = self.cloud.runtime
        try:
            result = runtime.invoke(mapping.function_arn, action.payload, mapping.region)
        except Exception as exc:  # the function was never reached: retry, uncounted
            log.warning("mapping %s could not invoke %s: %s", mapping.uuid,
                        mapping.function_name, exc)
            processor.not_delivered(time.time())
            mapping.last_result = processor.last_result = "PROBLEM: Function call failed"
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
        destination = mapping.config["DestinationConfig"].get("OnFailure", {}).get(
            "Destination")
        if not destination:
            log.warning("mapping %s discarded %d record(s) of %s (%s); no on-failure "
                        "destination is set", mapping.uuid, len(discard.records),
                        self.shard.shard_id, discard.condition)
            return
        try:
            deliver_failure(self.cloud, destination, json.dumps(message))
        except Exception as exc:
            log.warning("mapping %s could not send a failure record to %s: %s",
                        mapping.uuid, destination, exc)


def deliver_failure(cloud: Any, destination: str, body: str) -> None:
    """Write ``body`` to an SQS queue or SNS topic of the local cloud, by ARN.

    Example
    -------
    >>> deliver_failure(cloud, "arn:aws:sqs:us-east-1:123456789012:q", "{}")  # doctest: +SKIP
    """
    parts = destination.split(":")
    service, region, name = parts[2], parts[3], parts[5]
    with cloud.lock:
        if service == "sqs":
            cloud.sqs_backend(region).send_message(name, body)
        else:
            cloud.sns_backend(region).publish(body, arn=destination)


class EventSourceMappingService:
    """The local cloud's event source mappings: registry, supervisor and pollers.

    Example
    -------
    >>> service = EventSourceMappingService(cloud)            # doctest: +SKIP
    >>> service.start()                                       # doctest: +SKIP
    >>> service.create("us-east-1", {"FunctionName": "f", "EventSourceArn": arn,
    ...                              "StartingPosition": "LATEST"})  # doctest: +SKIP
    """

    def __init__(self, cloud: Any, poll_interval: float = POLL_INTERVAL_S) -> None:
        self.cloud = cloud
        self.poll_interval = poll_interval
        self._mappings: dict[str, MappingEntry] = {}
        self._pollers: dict[tuple[str, str], ShardPoller] = {}
        self._lock = threading.RLock()
        self._kick = threading.Event()
        self._stopping = False
        self._supervisor: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> None:
        """Start the supervisor thread."""
        self._supervisor = threading.Thread(target=self._supervise, name="esm-supervisor",
                                            daemon=True)
        self._supervisor.start()

    def shutdown(self) -> None:
        """Stop every poller and the supervisor; waits about a second at most."""
        self._stopping = True
        self._kick.set()
        with self._lock:
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for poller in pollers:
            poller.stop()
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S
        for thread in [*pollers, self._supervisor]:
            if thread is not None and thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _supervise(self) -> None:
        while not self._stopping:
            try:
                self._reconcile()
            except Exception:
                log.exception("event source mapping supervisor")
            self._kick.wait(SUPERVISE_INTERVAL_S)
            self._kick.clear()

    def _reconcile(self) -> None:
        with self._lock:
            for mapping in list(self._mappings.values()):
                self._reconcile_one(mapping)
            for key, poller in list(self._pollers.items()):
                if key[0] not in self._mappings:
                    poller.stop()
                    del self._pollers[key]

    def _reconcile_one(self, mapping: MappingEntry) -> None:
        self._add_new_shards(mapping)
        if mapping.enabled:
            ready = True
            for shard in mapping.shards.values():
                key = (mapping.uuid, shard.shard_id)
                poller = self._pollers.get(key)
                if poller is not None and poller.is_alive() and not poller.stopping:
                    continue
                if poller is not None and poller.is_alive():
                    ready = False  # the old poller is finishing an invocation
                    continue
                poller = ShardPoller(self, mapping, shard)
                self._pollers[key] = poller
                poller.start()
            if ready and mapping.state in ("Creating", "Enabling", "Updating"):
                mapping.state = "Enabled"
        else:
            alive = False
            for shard_id in mapping.shards:
                poller = self._pollers.get((mapping.uuid, shard_id))
                if poller is not None:
                    poller.stop()
                    if poller.is_alive():
                        alive = True
                    else:
                        del self._pollers[(mapping.uuid, shard_id)]
            if not alive and mapping.state in ("Creating", "Disabling", "Updating"):
                mapping.state = "Disabled"

    def _add_new_shards(self, mapping: MappingEntry) -> None:
        """Shards that appeared after the mapping started (resharding): read from the start."""
        with self.cloud.lock:
            stream = self.cloud.kinesis_backend(mapping.region).streams.get(mapping.stream_name)
            shard_ids = list(stream.shards) if stream is not None else []
        for shard_id in shard_ids:
            if shard_id not in mapping.shards:
                mapping.shards[shard_id] = ShardState(
                    shard_id, ShardProcessor(mapping.settings(), mapping.context(shard_id)))

    # ---- the API

    def _resolve_function(self, region: str, name: str) -> tuple[str, str, str]:
        from moto.awslambda.exceptions import UnknownFunctionException

        with self.cloud.lock:
            try:
                fn = self.cloud.lambda_backend(region).get_function(name)
            except UnknownFunctionException:
                arn = name if name.startswith("arn:") else function_arn(
                    region, self.cloud.account_id, name)
                raise MappingApiError(404, "ResourceNotFoundException",
                                      f"Function not found: {arn}") from None
            return (fn.function_name, function_arn(region, self.cloud.account_id,
                                                   fn.function_name), fn.role)

    def _starting_cursor(self, region: str, stream_arn: str,
                         cfg: dict[str, Any]) -> dict[str, tuple[Any, int, int | None]]:
        with self.cloud.lock:
            streams = self.cloud.kinesis_backend(region).streams
            stream = next((s for s in streams.values() if s.arn == stream_arn), None)
            if stream is None:
                raise MappingApiError(
                    400, "InvalidParameterValueException",
                    f"Stream not found: {stream_arn}. Create the Kinesis stream first, or "
                    "check the ARN (region and account included).")
            cursors: dict[str, tuple[Any, int, int | None]] = {}
            for shard_id, shard in stream.shards.items():
                records = shard.records
                position = cfg["StartingPosition"]
                if position == "LATEST":
                    count = len(records)
                elif position == "TRIM_HORIZON":
                    count = 0
                else:
                    stamp = cfg["StartingPositionTimestamp"]
                    count = sum(1 for r in records.values() if r.created_at < stamp)
                last = next(islice(records.keys(), count - 1, None)) if count else None
                cursors[shard_id] = (records, count, last)
            return cursors

    def _check_destination(self, cfg: dict[str, Any]) -> None:
        destination = cfg["DestinationConfig"].get("OnFailure", {}).get("Destination")
        if not destination:
            return
        parts = destination.split(":")
        service, region, name = parts[2], parts[3], parts[5]
        with self.cloud.lock:
            if service == "sqs":
                exists = name in self.cloud.sqs_backend(region).queues
            else:
                exists = destination in self.cloud.sns_backend(region).topics
        if not exists:
            kind = "SQS queue" if service == "sqs" else "SNS topic"
            raise MappingApiError(
                400, "InvalidParameterValueException",
                f"The on-failure destination {destination} does not exist. Create the {kind} "
                "first, then create or update the mapping.")

    def create(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """CreateEventSourceMapping: validate, start reading, return the mapping (Creating).

        Example
        -------
        >>> service.create("us-east-1", {...})["State"]   # doctest: +SKIP
        'Creating'
        """
        name = params.get("FunctionName")
        source = params.get("EventSourceArn")
        if not name:
            raise MappingApiError(400, "InvalidParameterValueException",
                                  "FunctionName is required.")
        if not source or ":kinesis:" not in str(source) or ":stream/" not in str(source):
            raise MappingApiError(
                400, "InvalidParameterValueException",
                f"EventSourceArn {source!r} is not a Kinesis stream ARN "
                "(arn:aws:kinesis:REGION:ACCOUNT:stream/NAME); the local cloud maps Kinesis "
                "streams only.")
        try:
            cfg = validate_mapping(params)
        except InvalidMappingError as exc:
            raise MappingApiError(400, "InvalidParameterValueException", str(exc)) from None
        fn_name, fn_arn, role = self._resolve_function(region, str(name))
        self._check_destination(cfg)
        with self._lock:
            for other in self._mappings.values():
                if other.function_arn == fn_arn and other.stream_arn == source:
                    raise MappingApiError(
                        409, "ResourceConflictException",
                        f"An event source mapping of {source} to {fn_name} already exists "
                        f"(UUID {other.uuid}). Update or delete it instead of creating "
                        "another.")
            cursors = self._starting_cursor(region, str(source), cfg)
            mapping = MappingEntry(str(uuidlib.uuid4()), region, self.cloud.account_id, fn_name,
                                   fn_arn, role, str(source), cfg,
                                   state="Creating" if cfg["Enabled"] else "Disabled")
            for shard_id, (ref, count, last) in cursors.items():
                mapping.shards[shard_id] = ShardState(
                    shard_id, ShardProcessor(mapping.settings(), mapping.context(shard_id)),
                    records_ref=ref, count=count, last_seq=last)
            self._mappings[mapping.uuid] = mapping
            out = mapping.describe()
        self._kick.set()
        return out

    def get(self, uuid: str) -> dict[str, Any]:
        """GetEventSourceMapping."""
        with self._lock:
            return self._find(uuid).describe()

    def _find(self, uuid: str) -> MappingEntry:
        mapping = self._mappings.get(uuid)
        if mapping is None:
            raise MappingApiError(404, "ResourceNotFoundException",
                                  f"The resource you requested does not exist. (Service: "
                                  f"Lambda; event source mapping {uuid})")
        return mapping

    def list(self, region: str, function_name: str | None = None,
             stream_arn: str | None = None) -> list[dict[str, Any]]:
        """ListEventSourceMappings, filtered by function (name or ARN) and stream ARN."""
        with self._lock:
            out = []
            for mapping in self._mappings.values():
                if mapping.region != region:
                    continue
                if function_name and function_name not in (mapping.function_name,
                                                           mapping.function_arn):
                    continue
                if stream_arn and stream_arn != mapping.stream_arn:
                    continue
                out.append(mapping.describe())
            return out

    def update(self, uuid: str, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateEventSourceMapping: new settings take effect at the pollers' next step."""
        with self._lock:
            mapping = self._find(uuid)
            try:
                cfg = validate_mapping(params, mapping.config)
            except InvalidMappingError as exc:
                raise MappingApiError(400, "InvalidParameterValueException", str(exc)) from None
            if params.get("FunctionName"):
                mapping.function_name, mapping.function_arn, mapping.role_arn = \
                    self._resolve_function(mapping.region, str(params["FunctionName"]))
            self._check_destination(cfg)
            was_enabled = mapping.enabled
            mapping.config = cfg
            mapping.last_modified = time.time()
            for shard in mapping.shards.values():
                shard.processor.settings = mapping.settings()
                shard.processor.context = mapping.context(shard.shard_id)
            if was_enabled != mapping.enabled:
                mapping.state = "Enabling" if mapping.enabled else "Disabling"
            else:
                mapping.state = "Updating" if mapping.enabled else "Disabled"
            for key, poller in self._pollers.items():
                if key[0] == uuid:
                    poller.wake()
            out = mapping.describe()
        self._kick.set()
        return out

    def delete(self, uuid: str) -> dict[str, Any]:
        """DeleteEventSourceMapping: stops its pollers; answers with State Deleting."""
        with self._lock:
            mapping = self._find(uuid)
            del self._mappings[uuid]
            mapping.state = "Deleting"
            for key, poller in list(self._pollers.items()):
                if key[0] == uuid:
                    poller.stop()
                    del self._pollers[key]
            out = mapping.describe()
        self._kick.set()
        return out
