"""docs/semantics.md rules, end to end: Kinesis -> event source mapping -> function, locally.

Each test makes its own stream, recording function (see esm_testkit.py) and mapping, with
tumbling windows of 1-2 s, and waits for outcomes by polling, never by a fixed sleep.
"""

from __future__ import annotations

import base64
import calendar
import contextlib
import json
import math
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kit.esm_testkit import (
    data_of,
    finals,
    make_function,
    make_stream,
    put,
    read_events,
    read_timed,
    unique,
    wait_for,
    wait_until_second_fraction,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def setup(lab, tmp_path):
    """Make a stream, a recording function and (through ``mapping``) a mapping; clean up."""
    made: dict[str, Any] = {"mappings": []}
    lam = lab.client("lambda")

    def build(window: int = 2, env: dict[str, str] | None = None, shards: int = 1,
              **mapping: Any) -> dict[str, Any]:
        events = tmp_path / f"{unique('events')}.jsonl"
        function = unique("esm-fn")
        make_function(lab, function, {"EVENTS_FILE": str(events), **(env or {})})
        stream = unique("esm-st")
        arn = make_stream(lab, stream, shards)
        params = {"StartingPosition": "LATEST", "BatchSize": 100,
                  "TumblingWindowInSeconds": window, **mapping}
        created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn,
                                                  **params)
        made["mappings"].append(created["UUID"])
        wait_for(lambda: lam.get_event_source_mapping(UUID=created["UUID"])["State"]
                 in ("Enabled", "Disabled"), 5)
        return {"events": events, "function": function, "stream": stream, "arn": arn,
                "uuid": created["UUID"], "created": created}

    yield build
    for uuid in made["mappings"]:
        with contextlib.suppress(ClientError):
            lam.delete_event_source_mapping(UUID=uuid)


def _queue(lab: Any) -> tuple[str, str]:
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=unique("esm-failures"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return url, arn


def _messages(lab: Any, url: str) -> list[dict[str, Any]]:
    got = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def _window_start(stamp: float, seconds: int) -> str:
    start = math.floor(round(stamp * 1000) / 1000 / seconds) * seconds
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))


# --------------------------------------------------------------------------- the event


def test_rule_01_02_03_event_shape_end_to_end(lab, setup):
    m = setup(window=2)
    role = lab.client("lambda").get_function(FunctionName=m["function"])["Configuration"][
        "Role"]
    raw = b'{"Name": "Shadowfax", "Distance": 30}'
    put_out = lab.client("kinesis").put_record(StreamName=m["stream"], Data=raw,
                                               PartitionKey="Shadowfax")
    events = wait_for(lambda: finals(read_events(m["events"])) and read_events(m["events"]),
                      8)
    first = events[0]
    assert set(first) == {"Records", "window", "state", "shardId", "eventSourceARN",
                          "isFinalInvokeForWindow", "isWindowTerminatedEarly"}
    assert first["state"] == {} and first["isFinalInvokeForWindow"] is False
    assert first["shardId"] == put_out["ShardId"]
    assert first["eventSourceARN"] == m["arn"]
    record = first["Records"][0]
    seq = put_out["SequenceNumber"]
    shard_records = lab.client("kinesis").get_records(ShardIterator=lab.client(
        "kinesis").get_shard_iterator(StreamName=m["stream"], ShardId=put_out["ShardId"],
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    arrival = shard_records["Records"][0]["ApproximateArrivalTimestamp"].timestamp()
    assert record == {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "Shadowfax",
                    "sequenceNumber": seq, "data": base64.b64encode(raw).decode(),
                    "approximateArrivalTimestamp": record["kinesis"][
                        "approximateArrivalTimestamp"]},
        "eventSource": "aws:kinesis", "eventVersion": "1.0",
        "eventID": f"{put_out['ShardId']}:{seq}", "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role, "awsRegion": lab.config.region,
        "eventSourceARN": m["arn"],
    }
    stamp = record["kinesis"]["approximateArrivalTimestamp"]
    assert isinstance(stamp, float) and abs(stamp - arrival) < 0.002
    assert base64.b64decode(record["kinesis"]["data"]) == raw
    window = first["window"]
    assert window["start"] == _window_start(stamp, 2)
    start = calendar.timegm(time.strptime(window["start"], "%Y-%m-%dT%H:%M:%SZ"))
    end = calendar.timegm(time.strptime(window["end"], "%Y-%m-%dT%H:%M:%SZ"))
    assert end - start == 2
    final = finals(events)[0]
    assert final["Records"] == [] and final["window"] == window
    assert final["state"] == {"count": 1, "data": [raw.decode()]}


def test_rule_04_no_window_is_a_plain_records_event(lab, setup):
    m = setup(window=0)
    put(lab, m["stream"], "plain")
    events = wait_for(lambda: read_events(m["events"]), 5)
    assert set(events[0]) == {"Records"}
    assert data_of(events[0]) == ["plain"]


# --------------------------------------------------------------------------- windows, state


def test_rule_05_06_07_10_windows_by_arrival_state_and_one_final_each(lab, setup):
    m = setup(window=1, BatchSize=2)
    kinesis = lab.client("kinesis")
    deadline = time.time() + 2.5
    i = 0
    while time.time() < deadline:
        # StatusTime in the payload lies: the window must follow the arrival time.
        body = json.dumps({"n": i, "StatusTime": "2001-01-01 00:00:00.000"})
        kinesis.put_record(StreamName=m["stream"], Data=body.encode(), PartitionKey="k")
        i += 1
        time.sleep(0.07)

    def all_closed() -> bool:
        events = read_events(m["events"])
        count = sum(len(e["Records"]) for e in events)
        windows = {e["window"]["start"] for e in events}
        return count >= i and windows == {e["window"]["start"] for e in finals(events)}

    wait_for(all_closed, 6)
    events = read_events(m["events"])
    by_window: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_window.setdefault(event["window"]["start"], []).append(event)
    delivered = []
    for start, group in by_window.items():
        batches = [e for e in group if not e["isFinalInvokeForWindow"]]
        assert len(finals(group)) == 1 and group[-1]["isFinalInvokeForWindow"]  # rule 10
        expected_state: dict[str, Any] = {}
        for event in batches:
            assert len(event["Records"]) <= 2  # rule 6
            for record in event["Records"]:  # rule 5: arrival time decides
                assert _window_start(record["kinesis"]["approximateArrivalTimestamp"],
                                     1) == start
            assert event["state"] == expected_state  # rule 7
            datas = data_of(event)
            expected_state = {"count": expected_state.get("count", 0) + len(datas),
                              "data": expected_state.get("data", []) + datas}
            delivered += [json.loads(d)["n"] for d in datas]
        assert finals(group)[0]["state"] == expected_state
    assert delivered == list(range(i))  # everything, once, in order
    assert len(by_window) >= 2


def test_rule_11_19_timer_triggered_final_and_prompt_delivery(lab, setup):
    m = setup(window=2)
    wait_until_second_fraction(0.05, 0.5, period=2)  # early in a 2 s window
    put(lab, m["stream"], "only")
    timed = wait_for(lambda: [t for t in read_timed(m["events"])
                              if t[1]["isFinalInvokeForWindow"]] and read_timed(m["events"]),
                     8)
    first_at, first = timed[0]
    final_at, final = next(t for t in timed if t[1]["isFinalInvokeForWindow"])
    end = calendar.timegm(time.strptime(final["window"]["end"], "%Y-%m-%dT%H:%M:%SZ"))
    # rule 19: the record is delivered while its window is still open, not held to its end.
    assert not first["isFinalInvokeForWindow"] and data_of(first) == ["only"]
    assert first["window"] == final["window"]
    assert first_at < end, "the record was held until its window closed"
    # rule 11: after window.end, with no record after the one put (the producer stopped),
    # so only the window's timer can have sent it; wait_for above bounds the wait.
    assert end <= final_at
    assert [e["isFinalInvokeForWindow"] for _, e in timed] == [False, True]
    assert final["state"]["data"] == ["only"]


def test_rule_12_failing_final_is_retried_and_blocks_the_shard(lab, setup):
    m = setup(window=1, env={"FAIL_FINAL": "2"})
    put(lab, m["stream"], "a")
    wait_for(lambda: read_events(m["events"]), 5)
    first_window = read_events(m["events"])[0]["window"]["start"]
    wait_for(lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) > first_window, 3)
    time.sleep(0.01)
    put(lab, m["stream"], "b")  # a later window, while the first one's final still fails

    def b_delivered() -> bool:
        return any("b" in data_of(e) for e in read_events(m["events"]))

    wait_for(b_delivered, 8)
    events = read_events(m["events"])
    kinds = [(e["window"]["start"] == first_window, e["isFinalInvokeForWindow"], data_of(e))
             for e in events]
    first_finals = [k for k in kinds if k[0] and k[1]]
    assert len(first_finals) == 3  # failed twice, then succeeded
    b_index = next(i for i, k in enumerate(kinds) if k[2] == ["b"])
    assert all(k[0] for k in kinds[:b_index])  # nothing of the later window came before
    assert [e["state"] for e in finals(events) if e["window"]["start"] == first_window] == \
        [{"count": 1, "data": ["a"]}] * 3


def test_rule_09_state_over_1_mb_ends_the_window_early(lab, setup):
    m = setup(window=3)
    wait_until_second_fraction(0.05, 0.4, period=3)
    put(lab, m["stream"], "bigstate")
    wait_for(lambda: read_events(m["events"]), 3)
    put(lab, m["stream"], "after")  # the same 3 s window
    events = wait_for(lambda: finals(read_events(m["events"])) and read_events(m["events"]),
                      8)
    assert len({e["window"]["start"] for e in events}) == 1
    flags = [(data_of(e), e["isWindowTerminatedEarly"], e["state"]) for e in events]
    assert flags[0] == (["bigstate"], False, {})
    assert flags[1] == (["after"], True, {})  # state restarted, flag set
    assert flags[2] == ([], True, {"count": 1, "data": ["after"]})
    assert len(events) == 3


# --------------------------------------------------------------------------- errors


def test_rule_13_retries_exhausted_goes_to_sqs_and_never_reaches_state(lab, setup):
    url, queue_arn = _queue(lab)
    m = setup(window=2, MaximumRetryAttempts=1, BisectBatchOnFunctionError=False,
              DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    # Early in a window: its final invocation (which sets "OK") then comes well after the
    # tries and the failure record, read within a poll interval (rule 19) and spaced by
    # rule 23's short waits.
    wait_until_second_fraction(0.05, 0.3, period=2)
    out = put(lab, m["stream"], "poison-1")
    messages = wait_for(lambda: _messages(lab, url), 8)
    lam = lab.client("lambda")
    assert lam.get_event_source_mapping(UUID=m["uuid"])["LastProcessingResult"] == \
        "PROBLEM: Function call failed"
    put(lab, m["stream"], "good")
    wait_for(lambda: any("good" in e["state"].get("data", [])
                         for e in finals(read_events(m["events"]))), 8)
    tries = [e for e in read_events(m["events"]) if data_of(e) == ["poison-1"]]
    assert len(tries) == 2  # N + 1
    message = messages[0]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert message["requestContext"]["functionArn"].endswith(f":function:{m['function']}")
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["version"] == "1.0"
    info = message["KinesisBatchInfo"]
    assert info["shardId"] == out["ShardId"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == out["SequenceNumber"]
    assert info["batchSize"] == 1 and info["streamArn"] == m["arn"]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert "poison" not in json.dumps(message)  # no record data
    final_states = [e["state"] for e in finals(read_events(m["events"]))]
    assert all("poison-1" not in s.get("data", []) for s in final_states)
    assert any(s.get("data") == ["good"] for s in final_states)
    assert lam.get_event_source_mapping(UUID=m["uuid"])["LastProcessingResult"] == "OK"


def test_rule_14_bisect_isolates_the_poison_record_and_sns_gets_the_failure(lab, setup):
    url, queue_arn = _queue(lab)
    sns = lab.client("sns")
    topic = sns.create_topic(Name=unique("esm-topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    m = setup(window=2, MaximumRetryAttempts=0, BisectBatchOnFunctionError=True,
              DestinationConfig={"OnFailure": {"Destination": topic}})
    wait_until_second_fraction(0.05, 0.3)
    out = lab.client("kinesis").put_records(StreamName=m["stream"], Records=[
        {"Data": d.encode(), "PartitionKey": "k"} for d in ("a", "b", "poison", "c")])
    poison_seq = out["Records"][2]["SequenceNumber"]
    messages = wait_for(lambda: _messages(lab, url), 8)
    final = wait_for(lambda: finals(read_events(m["events"])), 8)[0]
    assert sorted(final["state"]["data"]) == ["a", "b", "c"]
    sizes = [len(e["Records"]) for e in read_events(m["events"])
             if not e["isFinalInvokeForWindow"]]
    assert sizes[:2] == [4, 2]
    info = messages[0]["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == \
        (poison_seq, poison_seq, 1)


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("field_name,bad", [
    ("BatchSize", 0), ("BatchSize", 10_001), ("MaximumBatchingWindowInSeconds", 301),
    ("TumblingWindowInSeconds", 901), ("TumblingWindowInSeconds", -1),
    ("ParallelizationFactor", 11), ("MaximumRetryAttempts", -2),
    ("MaximumRetryAttempts", 10_001), ("MaximumRecordAgeInSeconds", 30),
    ("MaximumRecordAgeInSeconds", 604_801),
])
def test_rule_17_out_of_range_settings_are_rejected(lab, raw_lambda, field_name, bad):
    stream = unique("esm-st17")
    arn = make_stream(lab, stream)
    function = unique("esm-fn17")
    make_function(lab, function, {"EVENTS_FILE": "/dev/null"})
    with pytest.raises(ClientError) as caught:
        raw_lambda.create_event_source_mapping(FunctionName=function, EventSourceArn=arn,
                                               StartingPosition="LATEST", **{field_name: bad})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert field_name in caught.value.response["Error"]["Message"]
    assert raw_lambda.list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"] == []


def test_rule_17_api_errors_and_lifecycle(lab, raw_lambda):
    lam = lab.client("lambda")
    arn = make_stream(lab, unique("esm-st17"))
    function = unique("esm-fn17")
    make_function(lab, function, {"EVENTS_FILE": "/dev/null"})

    def code_of(**params: Any) -> str:
        with pytest.raises(ClientError) as caught:
            raw_lambda.create_event_source_mapping(**params)
        return caught.value.response["Error"]["Code"]

    assert code_of(FunctionName=function, EventSourceArn=arn) == \
        "InvalidParameterValueException"  # no StartingPosition
    assert code_of(FunctionName=function, EventSourceArn=arn, StartingPosition="LATEST",
                   TumblingWindowInSeconds=60, ParallelizationFactor=2) == \
        "InvalidParameterValueException"
    assert code_of(FunctionName=unique("missing"), EventSourceArn=arn,
                   StartingPosition="LATEST") == "InvalidParameterValueException"  # as AWS
    assert code_of(FunctionName=function, EventSourceArn=arn.replace("esm-st17", "nostream"),
                   StartingPosition="LATEST") == "InvalidParameterValueException"
    created = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="LATEST",
        TumblingWindowInSeconds=60, MaximumRetryAttempts=2, BisectBatchOnFunctionError=True)
    try:
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert created["State"] == "Creating"
        assert created["LastProcessingResult"] == "No records processed"
        assert (created["BatchSize"], created["TumblingWindowInSeconds"],
                created["MaximumRetryAttempts"], created["BisectBatchOnFunctionError"]) == \
            (100, 60, 2, True)
        assert created["StateTransitionReason"] == "User action"
        assert code_of(FunctionName=function, EventSourceArn=arn,
                       StartingPosition="LATEST") == "ResourceConflictException"
        listed = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
        assert [x["UUID"] for x in listed] == [created["UUID"]]
        assert [x["UUID"] for x in lam.list_event_source_mappings(EventSourceArn=arn)[
            "EventSourceMappings"]] == [created["UUID"]]
        with pytest.raises(ClientError) as caught:
            raw_lambda.update_event_source_mapping(UUID=created["UUID"], BatchSize=0)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
        updated = lam.update_event_source_mapping(UUID=created["UUID"], BatchSize=10)
        assert updated["BatchSize"] == 10 and updated["State"] == "Updating"
        assert wait_for(lambda: lam.get_event_source_mapping(UUID=created["UUID"])[
            "State"] == "Enabled", 3)
    finally:
        deleted = lam.delete_event_source_mapping(UUID=created["UUID"])
    assert deleted["State"] == "Deleting"
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as caught:
        lam.get_event_source_mapping(UUID=created["UUID"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_rule_18_latest_starts_after_existing_records_trim_horizon_at_the_oldest(lab, tmp_path):
    lam = lab.client("lambda")
    stream = unique("esm-st18")
    arn = make_stream(lab, stream)
    put(lab, stream, "old-1")
    put(lab, stream, "old-2")
    files = {}
    uuids = []
    for position in ("LATEST", "TRIM_HORIZON"):
        files[position] = tmp_path / f"{position}.jsonl"
        function = unique(f"esm-{position.lower().replace('_', '')}")
        make_function(lab, function, {"EVENTS_FILE": str(files[position])})
        uuids.append(lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=arn, StartingPosition=position)["UUID"])
    try:
        put(lab, stream, "new")

        def seen(position: str) -> list[str]:
            return [d for e in read_events(files[position]) for d in data_of(e)]

        wait_for(lambda: "new" in seen("LATEST") and "new" in seen("TRIM_HORIZON"), 6)
        assert seen("LATEST") == ["new"]
        assert seen("TRIM_HORIZON") == ["old-1", "old-2", "new"]
    finally:
        for uuid in uuids:
            lam.delete_event_source_mapping(UUID=uuid)


def test_rule_18_disable_keeps_the_checkpoint_and_delete_stops_delivery(lab, setup):
    m = setup(window=0, StartingPosition="TRIM_HORIZON")
    lam = lab.client("lambda")

    def seen() -> list[str]:
        return [d for e in read_events(m["events"]) for d in data_of(e)]

    put(lab, m["stream"], "a")
    wait_for(lambda: seen() == ["a"], 5)
    lam.update_event_source_mapping(UUID=m["uuid"], Enabled=False)
    wait_for(lambda: lam.get_event_source_mapping(UUID=m["uuid"])["State"] == "Disabled", 3)
    put(lab, m["stream"], "b")
    put(lab, m["stream"], "c")
    deadline = time.time() + 1.5
    while time.time() < deadline:  # a disabled mapping delivers nothing
        assert seen() == ["a"]
        time.sleep(0.1)
    lam.update_event_source_mapping(UUID=m["uuid"], Enabled=True)
    wait_for(lambda: seen() == ["a", "b", "c"], 5)  # resumed from the checkpoint, no repeat
    lam.delete_event_source_mapping(UUID=m["uuid"])
    put(lab, m["stream"], "d")
    deadline = time.time() + 1.5
    while time.time() < deadline:
        assert "d" not in seen()
        time.sleep(0.1)


def test_at_timestamp_starts_at_the_first_record_from_that_time(lab, tmp_path):
    lam = lab.client("lambda")
    stream = unique("esm-stts")
    arn = make_stream(lab, stream)
    put(lab, stream, "before")
    time.sleep(0.05)
    stamp = time.time()
    time.sleep(0.05)
    put(lab, stream, "after")
    events = tmp_path / "ts.jsonl"
    function = unique("esm-ts")
    make_function(lab, function, {"EVENTS_FILE": str(events)})
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=stamp)["UUID"]
    try:
        wait_for(lambda: read_events(events), 5)
        assert [d for e in read_events(events) for d in data_of(e)] == ["after"]
    finally:
        lam.delete_event_source_mapping(UUID=uuid)


def test_two_shards_have_their_own_windows(lab, setup):
    m = setup(window=1, shards=2)
    kinesis = lab.client("kinesis")
    for key in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"):
        kinesis.put_record(StreamName=m["stream"], Data=key.encode(), PartitionKey=key)
    shards = {s["ShardId"] for s in kinesis.list_shards(StreamName=m["stream"])["Shards"]}

    def final_shards() -> set[str]:
        return {e["shardId"] for e in finals(read_events(m["events"]))}

    wait_for(lambda: sum(len(e["Records"]) for e in read_events(m["events"])) == 6, 5)
    used = {e["shardId"] for e in read_events(m["events"])}
    wait_for(lambda: final_shards() >= used, 6)
    for event in read_events(m["events"]):
        assert event["shardId"] in shards
        assert all(r["eventID"].startswith(event["shardId"] + ":") for r in event["Records"])
    delivered = sorted(d for e in read_events(m["events"]) for d in data_of(e))
    assert delivered == sorted(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"])
    assert len(used) == 2  # six keys land on both shards
    for shard in used:  # each shard's window state holds only that shard's records
        mine = [d for e in read_events(m["events"]) if e["shardId"] == shard
                and not e["isFinalInvokeForWindow"] for d in data_of(e)]
        kept = [d for e in finals(read_events(m["events"])) if e["shardId"] == shard
                for d in e["state"]["data"]]
        assert sorted(kept) == sorted(mine)
