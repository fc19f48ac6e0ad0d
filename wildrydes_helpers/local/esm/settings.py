"""Settings of a Kinesis event source mapping: validation as AWS does it, limits, defaults.

``validate_mapping`` checks the fields of a Create or Update request and fills in the
defaults; ``Settings`` is the subset of them that steers the processor (processor.py).
The numbers in comments refer to the rules of ``docs/semantics.md``.

Example
-------
>>> Settings.from_mapping(validate_mapping({"StartingPosition": "LATEST"})).batch_size
100
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..moto_backends import known_regions

STATE_LIMIT_BYTES = 1_048_576
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
READ_LIMIT = 10_000  # records per GetRecords-equivalent read, as Kinesis allows
POLL_INTERVAL_S = 1.0  # rule 19
# Rule 23 (assumed: AWS documents no spacing of retries): the first wait after a failed try and
# the longest, for a mapping without a tumbling window or with one of 60 s or more. A shorter
# window shrinks both in proportion, so as many tries fit in a window as in a 60 s one: a
# rehearsal with 3 s windows then sees the same retries, in compressed time.
RETRY_BASE_DELAY_S = 0.1
RETRY_MAX_DELAY_S = 1.0
RETRY_FULL_SPACING_WINDOW_S = 60
# 2 ** 30 times the base is past any maximum; a larger exponent only risks an overflow.
_MAX_DOUBLINGS = 30

# AWS lists the enum in this order in its ValidationException (recorded answer, see
# tests/kit/aws_recorded/esm_api_errors.json).
STARTING_POSITION_ENUM = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
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
_NOT_KINESIS = ("Queues", "Topics", "SourceAccessConfigurations", "SelfManagedEventSource",
                "SelfManagedKafkaEventSourceConfig", "AmazonManagedKafkaEventSourceConfig",
                "DocumentDBEventSourceConfig", "ScalingConfig", "ProvisionedPollerConfig")


class InvalidMappingError(ValueError):
    """A mapping setting AWS would reject; ``code`` is AWS's error code for it.

    Example
    -------
    >>> InvalidMappingError("bad").code
    'InvalidParameterValueException'
    """

    def __init__(self, message: str, code: str = "InvalidParameterValueException") -> None:
        super().__init__(message)
        self.code = code


# AWS's own sentences (recorded answers, tests/kit/aws_recorded/esm_api_errors.json).
UNSUPPORTED_DESTINATION = ("Unsupported DestinationConfig parameter for given event source "
                           "mapping type.")
NULL_STARTING_POSITION = ("1 validation error detected: Value null at 'startingPosition' "
                          "failed to satisfy constraint: Member must not be null.")


def enum_error(value: Any, member: str, allowed: tuple[str, ...]) -> InvalidMappingError:
    """AWS's ValidationException for a value outside an enum of the API model.

    Example
    -------
    >>> err = enum_error("EARLIEST", "startingPosition", STARTING_POSITION_ENUM)
    >>> err.code
    'ValidationException'
    >>> str(err)[:60]
    "1 validation error detected: Value 'EARLIEST' at 'startingPo"
    """
    return InvalidMappingError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]",
        code="ValidationException")


def check_request(params: Mapping[str, Any]) -> None:
    """The checks AWS makes before it looks up the function or the event source.

    An enum violation is caught by AWS's request validation, before anything else; an
    on-success destination is refused before the function is looked up (both recorded).

    Raises
    ------
    InvalidMappingError
        With AWS's error code and sentence.

    Example
    -------
    >>> check_request({"StartingPosition": "LATEST"})
    >>> try:
    ...     check_request({"DestinationConfig": {"OnSuccess": {"Destination": "arn:q"}}})
    ... except InvalidMappingError as err:
    ...     print(str(err)[:47])
    Unsupported DestinationConfig parameter for giv
    """
    position = params.get("StartingPosition")
    if position is not None and position not in STARTING_POSITION_ENUM:
        raise enum_error(position, "startingPosition", STARTING_POSITION_ENUM)
    destination = params.get("DestinationConfig")
    if isinstance(destination, Mapping) and destination.get("OnSuccess"):
        raise InvalidMappingError(
            f"{UNSUPPORTED_DESTINATION} A Kinesis mapping takes an on-failure destination "
            'only: {"OnFailure": {"Destination": "<SQS queue or SNS topic ARN>"}}.')


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
    on_failure = value.get("OnFailure") or {}
    destination = on_failure.get("Destination") if isinstance(on_failure, Mapping) else None
    if destination is None:
        return {"OnFailure": {}}
    parts = str(destination).split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] not in ("sqs", "sns"):
        raise InvalidMappingError(
            f"DestinationConfig.OnFailure.Destination {destination!r} is not an SQS queue or "
            "SNS topic ARN (arn:aws:sqs:REGION:ACCOUNT:NAME or arn:aws:sns:...).")
    if parts[3] not in known_regions():
        raise InvalidMappingError(
            f"DestinationConfig.OnFailure.Destination {destination!r} names the region "
            f"{parts[3]!r}, which does not exist. Use the queue's real ARN (its region is the "
            "mapping's, such as us-east-1).")
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
    check_request(params)
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
            raise InvalidMappingError(f"{NULL_STARTING_POSITION} A Kinesis event source "
                                      "needs one: LATEST, TRIM_HORIZON or AT_TIMESTAMP.")
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
    retry_base_delay_s: float = RETRY_BASE_DELAY_S
    retry_max_delay_s: float = RETRY_MAX_DELAY_S

    def retry_delay_s(self, failures_in_a_row: int) -> float:
        """Seconds to wait after the ``failures_in_a_row``-th failed try in a row (rule 23).

        ``retry_base_delay_s`` doubled per failure in a row, up to ``retry_max_delay_s``;
        both shrink in proportion for a tumbling window shorter than 60 s.

        Example
        -------
        >>> [Settings(window_seconds=60).retry_delay_s(n) for n in (1, 2, 4, 5, 2000)]
        [0.1, 0.2, 0.8, 1.0, 1.0]
        >>> [round(Settings(window_seconds=3).retry_delay_s(n), 6) for n in (1, 5)]
        [0.005, 0.05]
        >>> Settings(window_seconds=0).retry_delay_s(5)     # no tumbling window
        1.0
        """
        doublings = min(max(failures_in_a_row - 1, 0), _MAX_DOUBLINGS)
        delay = min(self.retry_base_delay_s * 2 ** doublings, self.retry_max_delay_s)
        if 0 < self.window_seconds < RETRY_FULL_SPACING_WINDOW_S:
            delay *= self.window_seconds / RETRY_FULL_SPACING_WINDOW_S
        return delay

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
