"""The per-function concurrency cap: 429 TooManyRequestsException, and mappings retry it.

A function holds one worker per running invocation. Over its cap (the local cloud's
MAX_CONCURRENT_PER_FUNCTION, or its reserved concurrency) Invoke answers as Lambda does
when it throttles, and an event source mapping treats that as a throttle: retried, never
counted as a function error.
"""

from __future__ import annotations

import contextlib
import json
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kit.esm_testkit import (
    data_of,
    ensure_role,
    make_function,
    make_stream,
    put,
    read_events,
    unique,
    wait_for,
    zip_source,
)
from wildrydes_helpers.local.lambda_.concurrency import MAX_CONCURRENT_PER_FUNCTION

pytestmark = pytest.mark.timeout(120)

# Waits (bounded) until the file named by the event exists, so a test holds invocations
# inside the handler for as long as it needs, without sleeping for a guessed time.
HOLDER = textwrap.dedent('''
    import os, time

    def handler(event, context):
        open(os.path.join(event["folder"], context.aws_request_id), "w").close()
        give_up = time.time() + 30
        while not os.path.exists(event["release"]) and time.time() < give_up:
            time.sleep(0.01)
        return {"released": os.path.exists(event["release"])}
''')


def _create(lab: Any, source: str, timeout: int = 40) -> str:
    name = unique("rt-cap")
    lab.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=ensure_role(lab), Timeout=timeout,
        Handler="index.handler", Code={"ZipFile": zip_source(source)})
    return name


def _throttle(raw_lambda: Any, name: str, event: Any = None) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        raw_lambda.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    return caught.value.response


def test_reserved_concurrency_zero_throttles_every_invocation(lab: Any, raw_lambda: Any) -> None:
    name = _create(lab, "def handler(event, context):\n    return 'ran'\n")
    lam = lab.client("lambda")
    try:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        response = _throttle(raw_lambda, name)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert "DeleteFunctionConcurrency" in response["Error"]["Message"]
        lam.delete_function_concurrency(FunctionName=name)
        ran = raw_lambda.invoke(FunctionName=name, Payload=b"{}")
        assert json.loads(ran["Payload"].read()) == "ran"
    finally:
        lam.delete_function(FunctionName=name)


def test_over_the_cap_invoke_answers_429_and_other_functions_still_run(
        lab: Any, raw_lambda: Any, tmp_path: Path) -> None:
    name = _create(lab, HOLDER)
    other = _create(lab, "def handler(event, context):\n    return 'other'\n")
    folder, release = tmp_path / "inside", tmp_path / "release"
    folder.mkdir()
    event = {"folder": str(folder), "release": str(release)}
    results: list[Any] = []

    def hold() -> None:
        answer = raw_lambda.invoke(FunctionName=name, Payload=json.dumps(event))
        results.append(json.loads(answer["Payload"].read()))

    threads = [threading.Thread(target=hold) for _ in range(MAX_CONCURRENT_PER_FUNCTION)]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: len(list(folder.iterdir())) == MAX_CONCURRENT_PER_FUNCTION, 60)
        response = _throttle(raw_lambda, name, event)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert "MAX_CONCURRENT_PER_FUNCTION" in response["Error"]["Message"]
        # The cap is per function: another one is not throttled.
        assert json.loads(raw_lambda.invoke(FunctionName=other)["Payload"].read()) == "other"
    finally:
        release.touch()
        for thread in threads:
            thread.join(60)
        for function in (name, other):
            lab.client("lambda").delete_function(FunctionName=function)
    assert results == [{"released": True}] * MAX_CONCURRENT_PER_FUNCTION
    # The refused invocation never reached the handler.
    assert len(list(folder.iterdir())) == MAX_CONCURRENT_PER_FUNCTION


def test_a_mapping_retries_a_throttled_function_without_counting_an_error(
        lab: Any, tmp_path: Path) -> None:
    lam = lab.client("lambda")
    events = tmp_path / "events.jsonl"
    function = unique("rt-throttled")
    make_function(lab, function, {"EVENTS_FILE": str(events)})
    stream = unique("rt-throttled")
    arn = make_stream(lab, stream)
    lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=0)
    # No retry at all for a function error: a throttle counted as one would drop the record.
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
        BatchSize=10, MaximumRetryAttempts=0)["UUID"]
    try:
        put(lab, stream, "throttled-record")
        wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]
                 .startswith("PROBLEM"), 30)
        assert read_events(events) == []  # throttled: the handler never ran
        lam.delete_function_concurrency(FunctionName=function)
        delivered = wait_for(lambda: read_events(events), 30)
        assert [data_of(e) for e in delivered] == [["throttled-record"]]
        assert wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)[
            "LastProcessingResult"] == "OK", 10)
    finally:
        with contextlib.suppress(ClientError):
            lam.delete_event_source_mapping(UUID=uuid)
        lam.delete_function(FunctionName=function)
