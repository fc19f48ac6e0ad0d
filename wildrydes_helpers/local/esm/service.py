"""Lambda's Kinesis event source mappings in the local cloud: the registry and its pollers.

``EventSourceMappingService`` keeps the mappings in memory (the API in ``api.py`` calls it),
and a supervisor thread that starts one ``ShardPoller`` (poller.py) per (mapping, shard)
while the mapping is enabled and stops it when the mapping is disabled or deleted. It reads
functions and streams only through the local cloud's moto door (``cloud.backends``).

A disabled mapping keeps each shard's position and window state in memory; enabling it
starts new pollers on the same state, so it resumes from its checkpoint. The mappings live
as long as the local cloud process: a restart forgets them, like the rest of moto's state.
``ParallelizationFactor`` above 1 (allowed without a tumbling window) is stored and shown,
but each shard is processed one batch at a time.

Example
-------
>>> MappingState.ENABLED == "Enabled"
True
"""

from __future__ import annotations

import logging
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..aws_errors import AwsApiError
from ..context import LocalCloud
from ..moto_backends import (
    FunctionNotFound,
    InvalidFunctionReference,
    ShardCursor,
    StreamNotFound,
)
from .events import ShardContext
from .failures import destination_exists
from .poller import ShardPoller, ShardState
from .processor import RESULT_NONE, ShardProcessor
from .settings import (
    POLL_INTERVAL_S,
    RETRY_BASE_DELAY_S,
    RETRY_MAX_DELAY_S,
    InvalidMappingError,
    Settings,
    check_request,
    validate_mapping,
)

log = logging.getLogger("wildrydes.local.esm")

SUPERVISE_INTERVAL_S = 0.2
SHUTDOWN_TIMEOUT_S = 1.0


class MappingState(StrEnum):
    """A mapping's ``State`` as the Lambda API shows it."""

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


def function_arn(region: str, account_id: str, name: str) -> str:
    """The unqualified ARN of a function.

    Example
    -------
    >>> function_arn("us-east-1", "123456789012", "f")
    'arn:aws:lambda:us-east-1:123456789012:function:f'
    """
    return f"arn:aws:lambda:{region}:{account_id}:function:{name}"


# AWS's own sentences, recorded against AWS (tests/kit/aws_recorded/esm_api_errors.json).
# Every error of the mapping API starts with AWS's code and sentence; a hint may follow.
UNRECOGNIZED_SOURCE = "Unrecognized event source."
FUNCTION_MISSING = "Function does not exist"
NO_SUCH_MAPPING = "The resource you requested does not exist."
KINESIS_ARN_HINT = ("The local cloud maps Kinesis streams only: "
                    "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME.")


def _invalid(message: str) -> AwsApiError:
    return AwsApiError(400, "InvalidParameterValueException", message)


def _rejected(exc: InvalidMappingError) -> AwsApiError:
    return AwsApiError(400, exc.code, str(exc))


def duplicate_message(source: str, function_name: str, uuid: str) -> str:
    """AWS's ResourceConflictException message for a second mapping of the same pair.

    Example
    -------
    >>> print(duplicate_message("arn:s", "f", "u-1")[:70])
    The event source arn (" arn:s ") and function (" f ") provided mapping
    """
    return (f'The event source arn (" {source} ") and function (" {function_name} ") '
            "provided mapping already exists. Please update or delete the existing mapping "
            f"with UUID {uuid}")


def _is_kinesis_stream_arn(source: str) -> bool:
    parts = source.split(":", 5)
    return (len(parts) == 6 and parts[0] == "arn" and parts[2] == "kinesis"
            and parts[5].startswith("stream/") and len(parts[5]) > len("stream/"))


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
    state: MappingState = MappingState.CREATING
    last_modified: float = field(default_factory=time.time)
    last_result: str = RESULT_NONE
    shards: dict[str, ShardState] = field(default_factory=dict)
    retry_base_delay_s: float = RETRY_BASE_DELAY_S
    retry_max_delay_s: float = RETRY_MAX_DELAY_S

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split("/", 1)[1]

    @property
    def enabled(self) -> bool:
        return bool(self.config.get("Enabled", True))

    @property
    def destination(self) -> str | None:
        """The on-failure destination's ARN, or None."""
        return self.config["DestinationConfig"].get("OnFailure", {}).get("Destination")

    def settings(self) -> Settings:
        return Settings.from_mapping(self.config, retry_base_delay_s=self.retry_base_delay_s,
                                     retry_max_delay_s=self.retry_max_delay_s)

    def context(self, shard_id: str) -> ShardContext:
        return ShardContext(shard_id, self.stream_arn, self.region, self.role_arn)

    def add_shard(self, shard_id: str, cursor: ShardCursor | None = None) -> None:
        """Start tracking a shard, from ``cursor`` or (a new shard) from its start."""
        self.shards[shard_id] = ShardState(
            shard_id, ShardProcessor(self.settings(), self.context(shard_id)),
            cursor if cursor is not None else ShardCursor())

    def to_api(self) -> dict[str, Any]:
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
            "State": self.state.value,
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


class EventSourceMappingService:
    """The local cloud's event source mappings: registry, supervisor and pollers.

    Example
    -------
    >>> service = EventSourceMappingService(cloud)            # doctest: +SKIP
    >>> service.start()                                       # doctest: +SKIP
    >>> service.create("us-east-1", {"FunctionName": "f", "EventSourceArn": arn,
    ...                              "StartingPosition": "LATEST"})  # doctest: +SKIP
    """

    def __init__(self, cloud: LocalCloud, poll_interval: float = POLL_INTERVAL_S) -> None:
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
                poller = ShardPoller(self.cloud, mapping, shard, self.poll_interval)
                self._pollers[key] = poller
                poller.start()
            if ready and mapping.state in (MappingState.CREATING, MappingState.ENABLING,
                                           MappingState.UPDATING):
                mapping.state = MappingState.ENABLED
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
            if not alive and mapping.state in (MappingState.CREATING, MappingState.DISABLING,
                                               MappingState.UPDATING):
                mapping.state = MappingState.DISABLED

    def _add_new_shards(self, mapping: MappingEntry) -> None:
        """Shards that appeared after the mapping started (resharding): read from the start."""
        for shard_id in self.cloud.backends.shard_ids(mapping.region, mapping.stream_name):
            if shard_id not in mapping.shards:
                mapping.add_shard(shard_id)

    # ---- the API

    def _resolve_function(self, region: str, name: str) -> tuple[str, str, str]:
        try:
            spec = self.cloud.backends.function_spec(region, name)
        except FunctionNotFound:
            # AWS answers a mapping to a missing function with a 400, not the 404 of Invoke.
            raise _invalid(f"{FUNCTION_MISSING}: no function {name} in {region}. Create the "
                           "function first, or check its name.") from None
        except InvalidFunctionReference as exc:
            raise _invalid(str(exc)) from None
        return spec.name, function_arn(region, self.cloud.account_id, spec.name), spec.role

    def _starting_cursors(self, region: str, stream_arn: str,
                          cfg: dict[str, Any]) -> dict[str, ShardCursor]:
        try:
            return self.cloud.backends.starting_cursors(
                region, stream_arn, cfg["StartingPosition"],
                cfg.get("StartingPositionTimestamp"))
        except StreamNotFound:
            raise _invalid(f"Stream not found: {stream_arn}. Create the Kinesis stream first, "
                           "or check the ARN (region and account included).") from None

    def _check_destination(self, cfg: dict[str, Any]) -> None:
        destination = cfg["DestinationConfig"].get("OnFailure", {}).get("Destination")
        if not destination or destination_exists(self.cloud.backends, destination):
            return
        kind = "SQS queue" if destination.split(":")[2] == "sqs" else "SNS topic"
        raise _invalid(f"The on-failure destination {destination} does not exist. Create the "
                       f"{kind} first, then create or update the mapping.")

    def create(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """CreateEventSourceMapping: validate, start reading, return the mapping (Creating).

        Example
        -------
        >>> service.create("us-east-1", {...})["State"]   # doctest: +SKIP
        'Creating'
        """
        # In AWS's order, as recorded: enum values and an on-success destination, and a
        # missing source, are refused before the function is looked up; the function is
        # looked up before the source and the other settings are.
        name = params.get("FunctionName")
        source = params.get("EventSourceArn")
        try:
            check_request(params)
        except InvalidMappingError as exc:
            raise _rejected(exc) from None
        if not name:
            raise AwsApiError(400, "ValidationException",
                              "1 validation error detected: Value null at 'functionName' "
                              "failed to satisfy constraint: Member must not be null")
        if not source:
            raise _invalid(f"{UNRECOGNIZED_SOURCE} EventSourceArn is missing. "
                           f"{KINESIS_ARN_HINT}")
        fn_name, fn_arn, role = self._resolve_function(region, str(name))
        if not _is_kinesis_stream_arn(str(source)):
            raise _invalid(f"{UNRECOGNIZED_SOURCE} {source} is not a Kinesis stream ARN. "
                           f"{KINESIS_ARN_HINT}")
        try:
            cfg = validate_mapping(params)
        except InvalidMappingError as exc:
            raise _rejected(exc) from None
        self._check_destination(cfg)
        with self._lock:
            for other in self._mappings.values():
                if other.function_arn == fn_arn and other.stream_arn == source:
                    raise AwsApiError(409, "ResourceConflictException",
                                      duplicate_message(str(source), fn_name, other.uuid))
            cursors = self._starting_cursors(region, str(source), cfg)
            state = MappingState.CREATING if cfg["Enabled"] else MappingState.DISABLED
            mapping = MappingEntry(str(uuidlib.uuid4()), region, self.cloud.account_id, fn_name,
                                   fn_arn, role, str(source), cfg, state=state)
            for shard_id, cursor in cursors.items():
                mapping.add_shard(shard_id, cursor)
            self._mappings[mapping.uuid] = mapping
            out = mapping.to_api()
        self._kick.set()
        return out

    def get(self, uuid: str) -> dict[str, Any]:
        """GetEventSourceMapping."""
        with self._lock:
            return self._find(uuid).to_api()

    def _find(self, uuid: str) -> MappingEntry:
        mapping = self._mappings.get(uuid)
        if mapping is None:
            raise AwsApiError(404, "ResourceNotFoundException", NO_SUCH_MAPPING)
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
                out.append(mapping.to_api())
            return out

    def update(self, uuid: str, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateEventSourceMapping: new settings take effect at the pollers' next step."""
        with self._lock:
            mapping = self._find(uuid)
            try:
                cfg = validate_mapping(params, mapping.config)
            except InvalidMappingError as exc:
                raise _rejected(exc) from None
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
                mapping.state = (MappingState.ENABLING if mapping.enabled
                                 else MappingState.DISABLING)
            else:
                mapping.state = (MappingState.UPDATING if mapping.enabled
                                 else MappingState.DISABLED)
            for key, poller in self._pollers.items():
                if key[0] == uuid:
                    poller.wake()
            out = mapping.to_api()
        self._kick.set()
        return out

    def delete(self, uuid: str) -> dict[str, Any]:
        """DeleteEventSourceMapping: stops its pollers; answers with State Deleting."""
        with self._lock:
            mapping = self._find(uuid)
            del self._mappings[uuid]
            mapping.state = MappingState.DELETING
            for key, poller in list(self._pollers.items()):
                if key[0] == uuid:
                    poller.stop()
                    del self._pollers[key]
            out = mapping.to_api()
        self._kick.set()
        return out
