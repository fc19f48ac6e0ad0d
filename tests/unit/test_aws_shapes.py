"""The local cloud's events, failure records and mapping configurations have AWS's shapes.

Key by key and type by type, what the pure esm logic builds is compared with AWS's answers
recorded in ``tests/kit/aws_recorded`` (each names its source). Values that identify one run
(ids, ARNs, times) are not compared; the defaults of a mapping are.
"""

from __future__ import annotations

import json
from typing import Any

from tests.kit.aws_shapes import is_placeholder, recorded, shape_differences
from wildrydes_helpers.local.esm.events import ShardContext, stream_record
from wildrydes_helpers.local.esm.failures import failure_record
from wildrydes_helpers.local.esm.processor import (
    Discard,
    InvocationResult,
    Invoke,
    ShardProcessor,
)
from wildrydes_helpers.local.esm.service import MappingEntry, MappingState
from wildrydes_helpers.local.esm.settings import Settings, validate_mapping
from wildrydes_helpers.local.sequence_numbers import sequence_number

REGION = "us-east-1"
ACCOUNT = "123456789012"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/wildrydes"
CTX = ShardContext("shardId-000000000000", STREAM_ARN, REGION,
                   f"arn:aws:iam::{ACCOUNT}:role/lab-role")
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:WildRydesAggregator"
T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z, a multiple of 60


def _records(count: int, at: float) -> list[Any]:
    return [stream_record(sequence_number(0, i + 1), f"k{i}", "eyJhIjogMX0=", at + i / 10)
            for i in range(count)]


def _invoke(processor: ShardProcessor, now: float) -> Invoke:
    action = processor.next_action(now)
    assert isinstance(action, Invoke), action
    return action


def _window_events() -> tuple[dict[str, Any], dict[str, Any]]:
    """A batch invocation inside a 60 s window, and that window's final invocation."""
    processor = ShardProcessor(Settings(window_seconds=60), CTX)
    processor.add_records(_records(3, T0 + 1), read_at=T0 + 2)
    batch = _invoke(processor, T0 + 2)
    processor.complete(InvocationResult(b'{"state": {"1": 282, "2": 715}}'), T0 + 2.1)
    processor.add_records([], read_at=T0 + 61)
    final = _invoke(processor, T0 + 61)
    assert final.final
    return json.loads(batch.payload), json.loads(final.payload)


def test_a_batch_without_a_window_has_the_recorded_shape() -> None:
    processor = ShardProcessor(Settings(), CTX)
    processor.add_records(_records(2, T0), read_at=T0 + 1)
    event = json.loads(_invoke(processor, T0 + 1).payload)
    aws = recorded("kinesis_events")["batch_without_window"]["event"]
    assert shape_differences(aws, event) == []
    record = event["Records"][0]
    assert record["eventID"] == f"{CTX.shard_id}:{record['kinesis']['sequenceNumber']}"
    assert len(record["kinesis"]["sequenceNumber"]) == 56


def test_a_batch_in_a_window_and_the_final_invocation_have_the_documented_shape() -> None:
    aws = recorded("kinesis_events")["batch_with_window"]["event"]
    batch, final = _window_events()
    assert shape_differences(aws, batch) == []
    assert shape_differences(aws, final) == []
    assert (batch["isFinalInvokeForWindow"], final["isFinalInvokeForWindow"]) == (False, True)
    assert final["Records"] == [] and final["state"] == {"1": 282, "2": 715}
    assert batch["window"] == final["window"] == {"start": "2024-05-01T12:00:00Z",
                                                  "end": "2024-05-01T12:01:00Z"}


def _discard(condition: str, invokes: int, error: str | None = "Unhandled") -> Discard:
    invoked = invokes > 0
    return Discard(_records(2, T0), condition, invokes,
                   status_code=200 if invoked else None,
                   function_error=error if invoked else None,
                   request_id="4c5d4b9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f" if invoked else None)


def test_failure_records_have_the_recorded_shapes() -> None:
    answers = recorded("kinesis_failure_records")
    exhausted = failure_record(_discard("RetryAttemptsExhausted", 3), CTX, FUNCTION_ARN,
                               "rid", T0 + 5)
    for key in ("retries_exhausted_sqs", "retries_exhausted_sns", "documented_example"):
        assert shape_differences(answers[key]["message"], exhausted) == [], key
    # Reported item failures without a function error: functionError is null, as AWS's.
    reported = failure_record(_discard("RetryAttemptsExhausted", 4, error=None), CTX,
                              FUNCTION_ARN, "rid", T0 + 5)
    assert reported["responseContext"]["functionError"] is None
    for key, invokes in (("record_age_exceeded_while_retrying", 8),
                         ("record_age_exceeded_before_invoking", 0)):
        aged = failure_record(_discard("RecordAgeExceeded", invokes), CTX, FUNCTION_ARN,
                              "rid", T0 + 5)
        assert shape_differences(answers[key]["message"], aged) == [], key
    info = exhausted["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == str(sequence_number(0, 1))
    assert info["endSequenceNumber"] == str(sequence_number(0, 2))


def _entry(params: dict[str, Any]) -> dict[str, Any]:
    entry = MappingEntry("1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", REGION, ACCOUNT,
                         "WildRydesAggregator", FUNCTION_ARN,
                         f"arn:aws:iam::{ACCOUNT}:role/lab-role", STREAM_ARN,
                         validate_mapping(params))
    return entry.to_api()


def _same_values(aws: dict[str, Any], local: dict[str, Any], skip: set[str]) -> list[str]:
    return [f"{key}: AWS {value!r}, here {local.get(key)!r}" for key, value in aws.items()
            if key not in skip and not is_placeholder(value) and local.get(key) != value]


IDENTITY = {"EventSourceArn", "FunctionArn", "EventSourceMappingArn", "UUID",
            "DestinationConfig"}


def test_create_and_get_answers_have_the_recorded_shape_and_defaults() -> None:
    answers = recorded("esm_responses")
    defaults = _entry({"StartingPosition": "LATEST"})
    aws = answers["create_defaults"]["body"]
    assert shape_differences(aws, defaults) == []
    assert _same_values(aws, defaults, IDENTITY - {"DestinationConfig"}) == []

    settings = {"StartingPosition": "TRIM_HORIZON", "BatchSize": 1,
                "MaximumBatchingWindowInSeconds": 1, "MaximumRetryAttempts": 2}
    created = _entry(settings)
    assert shape_differences(answers["create"]["body"], created) == []
    assert _same_values(answers["create"]["body"], created, IDENTITY) == []
    got = dict(created, State=MappingState.ENABLED.value, LastProcessingResult="OK")
    assert shape_differences(answers["get"]["body"], got) == []
    assert _same_values(answers["get"]["body"], got, IDENTITY) == []

    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"
    with_queue = _entry({**settings, "MaximumRetryAttempts": 1,
                         "DestinationConfig": {"OnFailure": {"Destination": queue}}})
    assert shape_differences(answers["create_with_on_failure"]["body"], with_queue) == []
