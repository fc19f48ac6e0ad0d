"""Issue 11, part 5: AWS's size limits, enforced before the local cloud spends anything.

Before the change a 40 MB body was read whole (then accepted), and PutRecord took 1.2 MB.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import botocore.config
import botocore.exceptions
import pytest

from tests.kit.raw_http import headers_only, host_of, send_signed, signed_headers
from wildrydes_helpers.local.limits import (
    INVOKE_MAX_BYTES,
    KINESIS_RECORD_MAX_BYTES,
    MAX_BODY_BYTES,
    UNZIPPED_CODE_MAX_BYTES,
)
from wildrydes_helpers.session import local_boto3_session, local_credentials

MIB = 1024 * 1024


def _head(lab, method: str, target: str, length: int, service: str, extra: dict) -> str:
    """A signed request's head that announces ``length`` bytes of body (never sent)."""
    signed = signed_headers(lab.endpoint, method, target, b"", service,
                            local_credentials(lab.config), lab.config.region, extra)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_of(lab.endpoint)}",
             f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in signed.items()]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("service, target, extra, length, code", [
    ("dynamodb", "/", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, 40 * MIB,
     b"RequestEntityTooLargeException"),
    ("kinesis", "/", {"X-Amz-Target": "Kinesis_20131202.PutRecords"},
     MAX_BODY_BYTES["kinesis"] + 1, b"RequestEntityTooLargeException"),
    ("lambda", "/2015-03-31/functions/f/invocations", {}, INVOKE_MAX_BYTES + 1,
     b"RequestTooLargeException"),
    ("lambda", "/2015-03-31/functions", {}, 80 * MIB, b"RequestEntityTooLargeException"),
])
def test_a_body_over_the_limit_is_refused_before_it_is_sent(lab, service, target, extra,
                                                            length, code):
    """Only the head is sent: an answer at all proves the body was never waited for."""
    answer = headers_only(lab.endpoint, _head(lab, "POST", target, length, service, extra),
                          timeout=30)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    unsigned = headers_only(lab.endpoint, f"POST / HTTP/1.1\r\nHost: {host_of(lab.endpoint)}"
                                          f"\r\nContent-Length: {40 * MIB}\r\n", timeout=30)
    assert unsigned.startswith(b"HTTP/1.1 413"), unsigned
    assert lab.client("dynamodb").list_tables()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_whole_40_mb_body_gets_413_in_dynamodbs_shape(lab):
    body = b"{" + b" " * (40 * MIB) + b"}"
    answer = send_signed(lab.endpoint, "POST", "/", body, "dynamodb",
                         local_credentials(lab.config), lab.config.region,
                         {"Content-Type": "application/x-amz-json-1.0",
                          "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert (answer.status, answer.code) == (413, "RequestEntityTooLargeException")


@pytest.fixture
def stream(lab):
    name = f"limits-{uuid.uuid4().hex[:8]}"
    kinesis = lab.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name,
                                             WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    yield name
    kinesis.delete_stream(StreamName=name)


def _raw_kinesis(lab):
    # No client-side checks: the local cloud itself must refuse.
    return local_boto3_session(lab.config).client(
        "kinesis", endpoint_url=lab.endpoint, config=botocore.config.Config(
            parameter_validation=False, retries={"max_attempts": 1}))


def test_put_record_over_1_mib_is_refused_as_kinesis_does(lab, stream):
    kinesis = _raw_kinesis(lab)
    kinesis.put_record(StreamName=stream, PartitionKey="p", Data=b"x" * KINESIS_RECORD_MAX_BYTES)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        kinesis.put_record(StreamName=stream, PartitionKey="p", Data=b"x" * 1_200_000)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "Value at 'data'" in error["Message"] and "1048576" in error["Message"]


def test_put_records_entry_over_1_mib_is_refused_as_kinesis_does(lab, stream):
    kinesis = _raw_kinesis(lab)
    records = [{"PartitionKey": "p", "Data": b"small"},
               {"PartitionKey": "p", "Data": b"x" * (KINESIS_RECORD_MAX_BYTES + 1)}]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        kinesis.put_records(StreamName=stream, Records=records)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "'records.2.member.data'" in error["Message"]
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"] == []  # none went in


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_code_that_unzips_to_more_than_250_mb_is_refused(lab, raw_lambda):
    role = f"arn:aws:iam::{lab.account_id}:role/limits"
    code = {"index.py": b"def handler(e, c):\n    return 1\n",
            "padding.bin": b"\0" * (UNZIPPED_CODE_MAX_BYTES + 1)}
    bomb = _zip(code)
    assert len(bomb) < MIB  # small on the wire, huge on disk
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        raw_lambda.create_function(FunctionName="limits-bomb", Runtime="python3.12",
                                   Role=role, Handler="index.handler", Code={"ZipFile": bomb})
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert "Unzipped size must be smaller than 262144000 bytes" in error["Message"]
    names = [f["FunctionName"] for f in raw_lambda.list_functions()["Functions"]]
    assert "limits-bomb" not in names


def test_update_function_code_is_held_to_the_same_limits(lab, raw_lambda):
    iam = lab.client("iam")
    role = iam.create_role(RoleName=f"limits-{uuid.uuid4().hex[:6]}",
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                                                                "Statement": []}))["Role"]["Arn"]
    name = f"limits-{uuid.uuid4().hex[:6]}"
    raw_lambda.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                               Handler="index.handler",
                               Code={"ZipFile": _zip({"index.py": b"x = 1\n"})})
    for code, needle in ((_zip({"big.bin": b"\0" * (UNZIPPED_CODE_MAX_BYTES + 1)}),
                          "Unzipped size must be smaller"),
                         (b"this is not a zip", "Could not unzip uploaded file")):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            raw_lambda.update_function_code(FunctionName=name, ZipFile=code)
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert needle in refused.value.response["Error"]["Message"]
    raw_lambda.delete_function(FunctionName=name)


def test_a_non_numeric_content_length_is_a_400(lab):
    answer = headers_only(lab.endpoint, f"POST / HTTP/1.1\r\nHost: {host_of(lab.endpoint)}\r\n"
                                        "Content-Length: lots\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer
