"""Issue 11, part 6: every malformed request gets a 4xx in AWS's error shape, never a 500.

Before the change each of these was an HTML 500 from moto, which boto3 also retried.
"""

from __future__ import annotations

import json
import uuid

import botocore.config
import botocore.exceptions
import pytest

from tests.kit.esm_testkit import zip_source
from tests.kit.raw_http import send, send_signed
from wildrydes_helpers.session import local_boto3_session, local_credentials

JSON_SERVICES = {  # service: (content type, X-Amz-Target prefix, a read-only operation)
    "dynamodb": ("application/x-amz-json-1.0", "DynamoDB_20120810", "ListTables"),
    "kinesis": ("application/x-amz-json-1.1", "Kinesis_20131202", "ListStreams"),
    "logs": ("application/x-amz-json-1.1", "Logs_20140328", "DescribeLogGroups"),
    "sqs": ("application/x-amz-json-1.0", "AmazonSQS", "ListQueues"),
}
QUERY_SERVICES = {"iam": "2010-05-08", "sts": "2011-06-15", "sns": "2010-03-31"}
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def _signed(lab, body: bytes, service: str, headers: dict, target: str = "/",
            method: str = "POST", region: str | None = None):
    return send_signed(lab.endpoint, method, target, body, service,
                       local_credentials(lab.config),
                       lab.config.region if region is None else region, headers)


def _is_aws_error(answer, status: int, code: str) -> None:
    assert (answer.status, answer.code) == (status, code), answer.body[:300]
    assert not answer.body.lstrip().lower().startswith(b"<!doctype html")


@pytest.mark.parametrize("service", sorted(JSON_SERVICES))
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_bad_json_is_a_serialization_error(lab, service, body):
    content_type, prefix, operation = JSON_SERVICES[service]
    answer = _signed(lab, body, service, {"Content-Type": content_type,
                                          "X-Amz-Target": f"{prefix}.{operation}"})
    _is_aws_error(answer, 400, "SerializationException")


@pytest.mark.parametrize("service", sorted(JSON_SERVICES))
@pytest.mark.parametrize("target", ["{prefix}.Nope", "Other_20200101.{operation}", "", "{prefix}"])
def test_an_unknown_target_is_an_unknown_operation(lab, service, target):
    content_type, prefix, operation = JSON_SERVICES[service]
    headers = {"Content-Type": content_type}
    if target:
        headers["X-Amz-Target"] = target.format(prefix=prefix, operation=operation)
    _is_aws_error(_signed(lab, b"{}", service, headers), 400, "UnknownOperationException")


@pytest.mark.parametrize("service", sorted(QUERY_SERVICES))
def test_an_unknown_or_missing_action_of_a_query_service(lab, service):
    version = QUERY_SERVICES[service]
    nope = _signed(lab, f"Action=Nope&Version={version}".encode(), service,
                   {"Content-Type": FORM})
    _is_aws_error(nope, 400, "InvalidAction")
    assert nope.body.startswith(b"<ErrorResponse>")
    missing = _signed(lab, f"Version={version}".encode(), service, {"Content-Type": FORM})
    _is_aws_error(missing, 400, "MissingAction")


@pytest.mark.parametrize("path, method", [("/2015-03-31/functions", "POST"),
                                          ("/2015-03-31/event-source-mappings/", "POST"),
                                          ("/2015-03-31/functions/f/configuration", "PUT")])
def test_bad_json_to_lambda(lab, path, method):
    answer = _signed(lab, b"{not json", "lambda", {"Content-Type": "application/json"},
                     target=path, method=method)
    _is_aws_error(answer, 400, "InvalidRequestContentException")


@pytest.mark.parametrize("region", ["..", "xx-nowhere-9", "us-east-1/../x", "US-EAST-1", ""])
def test_an_unknown_or_invalid_region(lab, region):
    content_type, prefix, operation = JSON_SERVICES["dynamodb"]
    answer = _signed(lab, b"{}", "dynamodb",
                     {"Content-Type": content_type, "X-Amz-Target": f"{prefix}.{operation}"},
                     region=region)
    assert 400 <= answer.status < 500, answer
    assert answer.code in ("InvalidSignatureException", "IncompleteSignatureException")


def test_a_region_moto_has_no_backend_for_is_refused_not_a_500(lab):
    client = local_boto3_session(lab.config).client(
        "sqs", region_name="xx-nowhere-9", endpoint_url=lab.endpoint,
        config=botocore.config.Config(retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client.list_queues()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "valid region" in refused.value.response["Error"]["Message"]


def test_an_on_failure_destination_in_a_region_that_does_not_exist(lab, raw_lambda):
    suffix = uuid.uuid4().hex[:6]
    kinesis, iam = lab.client("kinesis"), lab.client("iam")
    stream = f"bad-dest-{suffix}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream,
                                             WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"]
    role = iam.create_role(RoleName=f"bad-dest-{suffix}", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    raw_lambda.create_function(FunctionName=f"bad-dest-{suffix}", Runtime="python3.12",
                               Role=role, Handler="index.handler",
                               Code={"ZipFile": zip_source("def handler(e, c):\n    pass\n")})
    try:
        for destination in ("arn:aws:sqs:xx-nowhere-9:123456789012:q",
                            "arn:aws:sns:..:123456789012:t"):
            with pytest.raises(botocore.exceptions.ClientError) as refused:
                raw_lambda.create_event_source_mapping(
                    FunctionName=f"bad-dest-{suffix}", EventSourceArn=arn,
                    StartingPosition="LATEST",
                    DestinationConfig={"OnFailure": {"Destination": destination}})
            error = refused.value.response
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
            assert error["Error"]["Code"] == "InvalidParameterValueException"
            assert "does not exist" in error["Error"]["Message"]
    finally:
        raw_lambda.delete_function(FunctionName=f"bad-dest-{suffix}")
        kinesis.delete_stream(StreamName=stream)


@pytest.mark.parametrize("body, content_type, code", [
    (b"Action=DescribeInstances&Version=2016-11-15", FORM, "MissingAuthenticationToken"),
    (b"{}", "application/x-amz-json-1.1", "MissingAuthenticationTokenException"),
    (b"", "", "MissingAuthenticationTokenException"),
])
def test_an_unsigned_request_to_a_service_the_local_cloud_does_not_serve(lab, body,
                                                                         content_type, code):
    headers = {"Content-Type": content_type} if content_type else {}
    if content_type.startswith("application/x-amz-json"):
        headers["X-Amz-Target"] = "AWSCognitoIdentityService.ListIdentityPools"
    answer = send(lab.endpoint, "POST", "/", body, headers)
    _is_aws_error(answer, 403, code)


def test_a_signed_request_to_a_service_the_local_cloud_does_not_serve(lab):
    answer = _signed(lab, b"Action=DescribeInstances&Version=2016-11-15", "ec2",
                     {"Content-Type": FORM})
    _is_aws_error(answer, 400, "UnknownServiceException")
