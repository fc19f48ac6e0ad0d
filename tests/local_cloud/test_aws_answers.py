"""The local cloud answers like AWS where AWS has spoken: errors, shapes, sequence numbers.

Each recorded answer in ``tests/kit/aws_recorded`` (with its source named there) is asked
of the local cloud again through boto3: an error must carry AWS's code and status and start
with AWS's sentence (a hint of ours may follow); an answer or event must have AWS's keys and
types. Sequence numbers are 56-digit decimals that sort as strings.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kit.aws_shapes import message_pattern, recorded, shape_differences
from tests.kit.esm_testkit import (
    finals,
    make_function,
    make_stream,
    put,
    read_events,
    unique,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def mappings(lab: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """Create mappings through boto3; every one is deleted when the test ends."""
    lam = lab.client("lambda")
    made: list[str] = []

    def create(**params: Any) -> dict[str, Any]:
        answer = lam.create_event_source_mapping(**params)
        made.append(answer["UUID"])
        return answer

    yield create
    for uuid in made:
        with contextlib.suppress(ClientError):
            lam.delete_event_source_mapping(UUID=uuid)


def _error(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response


def _assert_aws_error(answer: dict[str, Any], key: str) -> str:
    aws = recorded("esm_api_errors")["errors"][key]
    message = answer["Error"]["Message"]
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == aws["status"], key
    assert answer["Error"]["Code"] == aws["code"], key
    assert message_pattern(aws["message"]).match(message), (key, message, aws["message"])
    return message


def test_mapping_api_errors_start_with_aws_code_and_sentence(lab: Any, raw_lambda: Any,
                                                             mappings: Any) -> None:
    region = lab.config.region
    function = unique("aws-fn")
    make_function(lab, function, {"EVENTS_FILE": "/dev/null"})
    stream_arn = make_stream(lab, unique("aws-st"))
    queue_arn = f"arn:aws:sqs:{region}:111111111111:somequeue"
    create = raw_lambda.create_event_source_mapping
    missing = "00000000-0000-4000-8000-000000000000"

    # Exactly AWS's sentence where AWS says all there is to say.
    for key, call in (("get_unknown_uuid", raw_lambda.get_event_source_mapping),
                      ("delete_unknown_uuid", raw_lambda.delete_event_source_mapping)):
        assert _assert_aws_error(_error(call, UUID=missing), key) == \
            recorded("esm_api_errors")["errors"][key]["message"]
    update = _error(raw_lambda.update_event_source_mapping, UUID=missing, Enabled=False)
    assert _assert_aws_error(update, "update_unknown_uuid") == \
        "The resource you requested does not exist."

    _assert_aws_error(_error(create, FunctionName=unique("missing")),
                      "create_no_event_source_arn")
    # The function is looked up before the source: a missing function wins over an SQS ARN.
    _assert_aws_error(_error(create, FunctionName=unique("missing"), EventSourceArn=queue_arn),
                      "create_missing_function")
    _assert_aws_error(_error(create, FunctionName=unique("missing"), EventSourceArn=stream_arn,
                             StartingPosition="LATEST"), "create_missing_function")
    _assert_aws_error(_error(create, FunctionName=unique("missing"), EventSourceArn=queue_arn,
                             DestinationConfig={"OnSuccess": {"Destination": queue_arn}}),
                      "create_on_success_destination")
    _assert_aws_error(_error(create, FunctionName=function, EventSourceArn=stream_arn,
                             StartingPosition="LATEST",
                             DestinationConfig={"OnSuccess": {"Destination": queue_arn}}),
                      "create_on_success_destination")
    # A source of an existing function that is not a Kinesis stream.
    unrecognized = _error(create, FunctionName=function, EventSourceArn=queue_arn,
                          StartingPosition="LATEST")
    assert unrecognized["Error"]["Code"] == "InvalidParameterValueException"
    assert unrecognized["Error"]["Message"].startswith("Unrecognized event source.")
    _assert_aws_error(_error(create, FunctionName=function, EventSourceArn=stream_arn),
                      "create_no_starting_position")
    enum = _assert_aws_error(_error(create, FunctionName=function, EventSourceArn=stream_arn,
                                    StartingPosition="invalid"),
                             "create_invalid_starting_position")
    assert enum == recorded("esm_api_errors")["errors"][
        "create_invalid_starting_position"]["message"]
    gone = stream_arn.rsplit("/", 1)[0] + "/test-foobar-81ded7e8"  # the recorded name
    _assert_aws_error(_error(create, FunctionName=function, EventSourceArn=gone,
                             StartingPosition="LATEST"), "create_missing_stream")

    first = mappings(FunctionName=function, EventSourceArn=stream_arn,
                     StartingPosition="LATEST")
    duplicate = _assert_aws_error(_error(create, FunctionName=function,
                                         EventSourceArn=stream_arn,
                                         StartingPosition="LATEST"), "create_duplicate")
    assert duplicate == (f'The event source arn (" {stream_arn} ") and function (" {function} '
                         '") provided mapping already exists. Please update or delete the '
                         f"existing mapping with UUID {first['UUID']}")


def test_create_and_get_answers_have_aws_shape(lab: Any, mappings: Any) -> None:
    answers = recorded("esm_responses")
    function = unique("aws-fn")
    make_function(lab, function, {"EVENTS_FILE": "/dev/null"})
    defaults = mappings(FunctionName=function, EventSourceArn=make_stream(lab, unique("aws-st")),
                        StartingPosition="LATEST")
    defaults.pop("ResponseMetadata")
    assert shape_differences(answers["create_defaults"]["body"], defaults) == []
    created = mappings(FunctionName=function, EventSourceArn=make_stream(lab, unique("aws-st")),
                       StartingPosition="TRIM_HORIZON", BatchSize=1,
                       MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=2)
    assert created.pop("ResponseMetadata")["HTTPStatusCode"] == answers["create"]["status"]
    assert shape_differences(answers["create"]["body"], created) == []
    got = lab.client("lambda").get_event_source_mapping(UUID=created["UUID"])
    assert got.pop("ResponseMetadata")["HTTPStatusCode"] == answers["get"]["status"]
    assert shape_differences(answers["get"]["body"], got) == []


def _numbers_ok(numbers: list[str]) -> None:
    assert all(len(n) == 56 and n.isdigit() for n in numbers), numbers
    assert numbers == sorted(numbers) == sorted(numbers, key=int)


def test_events_and_failure_records_have_aws_shape(lab: Any, mappings: Any, tmp_path) -> None:
    events_shapes = recorded("kinesis_events")
    # A mapping with a tumbling window: a batch, then the window's final invocation.
    windowed = tmp_path / "windowed.jsonl"
    function = unique("aws-fn")
    make_function(lab, function, {"EVENTS_FILE": str(windowed)})
    stream = unique("aws-st")
    mappings(FunctionName=function, EventSourceArn=make_stream(lab, stream),
             StartingPosition="LATEST", TumblingWindowInSeconds=1)
    wait_for(lambda: lab.client("lambda").list_event_source_mappings(
        FunctionName=function)["EventSourceMappings"][0]["State"] == "Enabled", 5)
    put(lab, stream, "one")
    final = wait_for(lambda: finals(read_events(windowed)), 10)[0]
    batch = next(e for e in read_events(windowed) if e["Records"])
    aws = events_shapes["batch_with_window"]["event"]
    assert shape_differences(aws, batch) == []
    assert shape_differences(aws, final) == []
    record = batch["Records"][0]
    _numbers_ok([record["kinesis"]["sequenceNumber"]])
    assert record["eventID"] == f"{batch['shardId']}:{record['kinesis']['sequenceNumber']}"

    # A mapping without a window whose function always fails: one retry, then SQS.
    plain = tmp_path / "plain.jsonl"
    failing = unique("aws-fn")
    make_function(lab, failing, {"EVENTS_FILE": str(plain), "FAIL_ALL": "1"})
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=unique("aws-failures"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    stream = unique("aws-st")
    mappings(FunctionName=failing, EventSourceArn=make_stream(lab, stream),
             StartingPosition="LATEST", MaximumRetryAttempts=1,
             DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    wait_for(lambda: lab.client("lambda").list_event_source_mappings(
        FunctionName=failing)["EventSourceMappings"][0]["State"] == "Enabled", 5)
    out = put(lab, stream, "doomed")
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get(
        "Messages"), 10)
    event = read_events(plain)[0]
    assert shape_differences(events_shapes["batch_without_window"]["event"], event) == []
    message = json.loads(messages[0]["Body"])
    failure = recorded("kinesis_failure_records")["retries_exhausted_sqs"]["message"]
    assert shape_differences(failure, message) == []
    info = message["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == out["SequenceNumber"]
    _numbers_ok([out["SequenceNumber"]])


def test_sequence_numbers_sort_as_strings_and_iterators_find_them(lab: Any) -> None:
    kinesis = lab.client("kinesis")
    stream = unique("aws-seq")
    make_stream(lab, stream, shards=2)
    per_shard: dict[str, list[str]] = {}
    for i in range(40):
        answer = kinesis.put_record(StreamName=stream, Data=f"r{i}".encode(),
                                    PartitionKey=f"key-{i}")
        per_shard.setdefault(answer["ShardId"], []).append(answer["SequenceNumber"])
    assert len(per_shard) == 2
    every = [n for numbers in per_shard.values() for n in numbers]
    assert len(set(every)) == len(every)
    assert sorted(every) == sorted(every, key=int)
    for shard, numbers in per_shard.items():
        _numbers_ok(numbers)
        middle = numbers[len(numbers) // 2]
        for kind, expected in (("AT_SEQUENCE_NUMBER", numbers[len(numbers) // 2:]),
                               ("AFTER_SEQUENCE_NUMBER", numbers[len(numbers) // 2 + 1:])):
            iterator = kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard, ShardIteratorType=kind,
                StartingSequenceNumber=middle)["ShardIterator"]
            got = kinesis.get_records(ShardIterator=iterator)["Records"]
            assert [r["SequenceNumber"] for r in got] == expected, kind


def test_a_mapping_delivers_and_checkpoints_aws_like_numbers(lab: Any, mappings: Any,
                                                             tmp_path) -> None:
    """Across "9" -> "10" and a disable/enable: every record once, in order."""
    lam = lab.client("lambda")
    events = tmp_path / "events.jsonl"
    function = unique("aws-fn")
    make_function(lab, function, {"EVENTS_FILE": str(events)})
    stream = unique("aws-st")
    arn = make_stream(lab, stream)
    sent = [put(lab, stream, f"r{i}")["SequenceNumber"] for i in range(12)]
    created = mappings(FunctionName=function, EventSourceArn=arn,
                       StartingPosition="TRIM_HORIZON", BatchSize=5)

    def delivered() -> list[str]:
        return [r["kinesis"]["sequenceNumber"] for e in read_events(events)
                for r in e["Records"]]

    wait_for(lambda: len(delivered()) >= 12, 10)
    lam.update_event_source_mapping(UUID=created["UUID"], Enabled=False)
    wait_for(lambda: lam.get_event_source_mapping(UUID=created["UUID"])["State"]
             == "Disabled", 5)
    sent += [put(lab, stream, f"late{i}")["SequenceNumber"] for i in range(3)]
    lam.update_event_source_mapping(UUID=created["UUID"], Enabled=True)
    wait_for(lambda: len(delivered()) >= 15, 10)
    assert delivered() == sent
    _numbers_ok(sent)
    for event in read_events(events):
        for record in event["Records"]:
            number = record["kinesis"]["sequenceNumber"]
            assert record["eventID"] == f"shardId-000000000000:{number}"
    assert lam.get_event_source_mapping(UUID=created["UUID"])["LastProcessingResult"] == "OK"


def test_the_function_and_a_reader_see_the_same_arrival_millisecond(lab: Any, mappings: Any,
                                                                     tmp_path) -> None:
    """AWS's arrival times have millisecond precision, so a record's window is one instant.

    The mapping puts a record in a window by the arrival time the function sees; the lab's
    reconciliation by the one GetRecords returns. With any sub-millisecond part, a record put
    in the last half millisecond of a window would fall on different sides of the boundary.
    """
    events = tmp_path / "events.jsonl"
    function = unique("aws-fn")
    make_function(lab, function, {"EVENTS_FILE": str(events)})
    stream = unique("aws-ms")
    arn = make_stream(lab, stream)
    sent = [put(lab, stream, f"r{i}")["SequenceNumber"] for i in range(30)]
    mappings(FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    kinesis = lab.client("kinesis")
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    read = {r["SequenceNumber"]: r["ApproximateArrivalTimestamp"]
            for r in kinesis.get_records(ShardIterator=iterator)["Records"]}
    assert sorted(read) == sorted(sent)
    assert all(stamp.microsecond % 1000 == 0 for stamp in read.values())
    seen = wait_for(lambda: {r["kinesis"]["sequenceNumber"]:
                             r["kinesis"]["approximateArrivalTimestamp"]
                             for e in read_events(events) for r in e["Records"]}
                    if len(read_events(events)) and sum(
                        len(e["Records"]) for e in read_events(events)) >= 30 else None, 10)
    for number, stamp in read.items():
        assert round(seen[number] * 1000) == round(stamp.timestamp() * 1000), number
