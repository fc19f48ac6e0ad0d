"""The aws code path, under in-process moto (never the local cloud in the same call path)."""

from __future__ import annotations

import json
import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import calls_named
from tests.kit.moto_lab import moto_lab
from wildrydes_helpers.errors import PrerequisiteError
from wildrydes_helpers.function_zip import build_zip, code_sha256, lambda_dir


@pytest.fixture
def aws_lab(monkeypatch, tmp_path):
    with moto_lab(monkeypatch, tmp_path, managed_policies=True) as lab:
        yield lab


def test_all_steps_send_the_labs_exact_parameters(aws_lab):
    wr.create_stream(session=aws_lab)
    wr.create_table(session=aws_lab)
    role = wr.create_role(session=aws_lab)
    doc = json.loads(calls_named(role.calls, "CreatePolicy")[0].params["PolicyDocument"])
    assert doc == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:PutItem",
        "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/UnicornAggregation"}, {
        # AWS: the trigger needs sqs:SendMessage to send failure records to the queue.
        "Effect": "Allow", "Action": "sqs:SendMessage",
        "Resource": "arn:aws:sqs:us-east-1:123456789012:wildrydes-aggregator-failures"}]}

    fn = wr.create_function(session=aws_lab)
    assert fn.status == "created"
    create = calls_named(fn.calls, "CreateFunction")[0].params
    assert {k: create[k] for k in ("FunctionName", "Runtime", "Handler", "Timeout",
                                   "MemorySize", "Environment")} == {
        "FunctionName": "WildRydesAggregator", "Runtime": "python3.12",
        "Handler": "index.handler", "Timeout": 30, "MemorySize": 128,
        "Environment": {"Variables": {"TABLE_NAME": "UnicornAggregation"}}}
    assert create["Role"] == "arn:aws:iam::123456789012:role/unicorn-aggregation-role"
    assert create["Code"]["ZipFile"].startswith("<")  # the zip is not dumped into a notebook
    mapping = calls_named(fn.calls, "CreateEventSourceMapping")[0].params
    assert mapping == {
        "FunctionName": "WildRydesAggregator",
        "EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes",
        "Enabled": True, "BatchSize": 100, "StartingPosition": "LATEST",
        "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
        "TumblingWindowInSeconds": 60,
        "DestinationConfig": {"OnFailure": {
            "Destination": "arn:aws:sqs:us-east-1:123456789012:wildrydes-aggregator-failures"}}}

    again = wr.create_function(session=aws_lab)
    assert again.status == "up to date"
    assert not [c for c in again.calls if c.operation.startswith(("Create", "Update"))
                and c.operation != "CreateQueue"]


def test_a_trigger_with_other_settings_is_updated(aws_lab):
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=aws_lab)
    lam = aws_lab.client("lambda")
    uuid = lam.list_event_source_mappings(FunctionName="WildRydesAggregator")[
        "EventSourceMappings"][0]["UUID"]
    lam.update_event_source_mapping(UUID=uuid, BatchSize=10, TumblingWindowInSeconds=0)
    fixed = wr.create_function(session=aws_lab)
    assert fixed.status == "updated"
    assert "BatchSize" in fixed.details["trigger"]
    assert "TumblingWindowInSeconds" in fixed.details["trigger"]
    update = calls_named(fixed.calls, "UpdateEventSourceMapping")[0].params
    assert update["BatchSize"] == 100 and update["TumblingWindowInSeconds"] == 60
    now = lam.get_event_source_mapping(UUID=uuid)
    assert (now["BatchSize"], now["TumblingWindowInSeconds"]) == (100, 60)


def test_step_3_before_step_2_names_step_2(aws_lab):
    wr.create_stream(session=aws_lab)
    wr.create_table(session=aws_lab)
    with pytest.raises(PrerequisiteError, match="02_create_role"):
        wr.create_function(session=aws_lab)


def test_clean_up_deletes_everything_then_has_nothing_to_delete(aws_lab):
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=aws_lab)
    first = wr.clean_up(session=aws_lab)
    deleted = first.details["deleted"]
    for what in ("trigger", "function WildRydesAggregator", "role unicorn-aggregation-role",
                 "policy unicorn-aggregation-ddb-write-policy", "table UnicornAggregation",
                 "stream wildrydes", "queue wildrydes-aggregator-failures"):
        assert what in deleted
    assert aws_lab.client("dynamodb").list_tables()["TableNames"] == []
    assert aws_lab.client("iam").list_policies(Scope="Local")["Policies"] == []
    second = wr.clean_up(session=aws_lab)
    assert second.status == "nothing to delete"


def test_the_zip_is_reproducible(tmp_path):
    first, second = build_zip(), build_zip()
    assert code_sha256(first) == code_sha256(second)
    copy = tmp_path / "lambda"
    copy.mkdir()
    for path in lambda_dir().glob("*.py"):
        (copy / path.name).write_bytes(path.read_bytes())
    os.utime(copy / "index.py", (1_000_000_000, 1_000_000_000))  # another mtime
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "index.cpython-311.pyc").write_bytes(b"junk")
    assert code_sha256(build_zip(copy)) == code_sha256(first)
    names = zipfile.ZipFile(BytesIO(first)).namelist()
    assert names == sorted(names) and "index.py" in names
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0)
               for i in zipfile.ZipFile(BytesIO(first)).infolist())
    (copy / "index.py").write_text(Path(copy / "index.py").read_text() + "\n# changed\n")
    assert code_sha256(build_zip(copy)) != code_sha256(first)
