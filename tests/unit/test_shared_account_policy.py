"""teacher/iam-policy.json: a student's least privilege in a shared account.

The lab runs under in-process moto with the prefix ``student07`` (the student's IAM user
name, which the policy's ``${aws:username}`` stands for); every AWS call it makes must be
allowed by the policy on that call's resource, and the same call on another student's
resource (``student08-...``) must not be.
"""

from __future__ import annotations

import json
import time
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import wildrydes_helpers as wr
from tests.unit.test_shared_account import load_kinesis_execution_policy
from wildrydes_helpers.cleanup import leftovers
from wildrydes_helpers.config import Config
from wildrydes_helpers.iam import describe_role
from wildrydes_helpers.session import CallRecord, LabSession
from wildrydes_helpers.waiting import wait_for_logs

POLICY = Path(__file__).resolve().parents[2] / "teacher" / "iam-policy.json"
ACCOUNT, REGION = "123456789012", "us-east-1"
USER, OTHER = "student07", "student08"
# Calls of the lab made outside the helpers run below (producer, readers, 03 and 07).
OTHER_CALLS = [
    ("kinesis", "PutRecords", {"StreamName": f"{USER}-wildrydes"}),
    ("kinesis", "PutRecord", {"StreamName": f"{USER}-wildrydes"}),
    ("kinesis", "DescribeStreamSummary", {"StreamName": f"{USER}-wildrydes"}),
    ("kinesis", "ListShards", {"StreamName": f"{USER}-wildrydes"}),
    ("kinesis", "GetShardIterator", {"StreamName": f"{USER}-wildrydes"}),
    ("kinesis", "GetRecords", {"StreamName": f"{USER}-wildrydes"}),
    ("dynamodb", "Query", {"TableName": f"{USER}-UnicornAggregation"}),
    ("dynamodb", "Scan", {"TableName": f"{USER}-UnicornAggregation"}),
    ("lambda", "Invoke", {"FunctionName": f"{USER}-WildRydesAggregator"}),
    ("lambda", "GetFunctionConfiguration", {"FunctionName": f"{USER}-WildRydesAggregator"}),
    ("lambda", "ListEventSourceMappings", {"FunctionName": f"{USER}-WildRydesAggregator"}),
    ("sqs", "GetQueueUrl", {"QueueName": f"{USER}-wildrydes-aggregator-failures"}),
    ("sqs", "ReceiveMessage", {"QueueUrl": f"https://q/{ACCOUNT}/{USER}-wildrydes-aggregator-failures"}),
    ("sqs", "DeleteMessage", {"QueueUrl": f"https://q/{ACCOUNT}/{USER}-wildrydes-aggregator-failures"}),
    ("logs", "FilterLogEvents", {"logGroupName": f"/aws/lambda/{USER}-WildRydesAggregator"}),
]
# Actions that act on no named resource, or whose scope is a condition (lambda:FunctionArn).
UNSCOPED = {"ListStreams", "ListTables", "ListFunctions", "ListEventSourceMappings",
            "GetEventSourceMapping", "ListRoles", "ListPolicies", "ListQueues",
            "DescribeLogGroups", "CreateEventSourceMapping", "UpdateEventSourceMapping",
            "DeleteEventSourceMapping"}


def policy() -> dict[str, Any]:
    return json.loads(POLICY.read_text())


def action_of(service: str, operation: str) -> str:
    return f"{service}:{'InvokeFunction' if operation == 'Invoke' else operation}"


def _name(value: str) -> str:
    return value.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def resource_of(service: str, operation: str, params: dict[str, Any]) -> str:
    """The ARN IAM checks for this call (``*`` for calls with no resource scope)."""
    if operation in UNSCOPED:
        return "*"
    p = params
    if service == "kinesis":
        return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{p['StreamName']}"
    if service == "dynamodb":
        if "ResourceArn" in p:
            return str(p["ResourceArn"])
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p['TableName']}"
    if service == "iam":
        if "RoleName" in p:
            return f"arn:aws:iam::{ACCOUNT}:role/{p['RoleName']}"
        if "PolicyArn" in p:
            return str(p["PolicyArn"])
        return f"arn:aws:iam::{ACCOUNT}:policy/{p['PolicyName']}"
    if service == "lambda":
        name = _name(str(p.get("FunctionName") or p.get("Resource")))
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    if service == "sqs":
        name = p.get("QueueName") or str(p["QueueUrl"]).rsplit("/", 1)[-1]
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    if service == "logs":
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{p['logGroupName']}"
    raise AssertionError(f"no resource rule for {service}.{operation}")


def allowed(doc: dict[str, Any], action: str, resource: str, user: str) -> bool:
    """Does an Allow statement match the action and resource (conditions aside)?"""
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if st["Effect"] != "Allow" or not any(fnmatchcase(action, a) for a in actions):
            continue
        if any(fnmatchcase(resource, r.replace("${aws:username}", user)) for r in resources):
            return True
    return False


@pytest.fixture(scope="module")
def lab_calls(tmp_path_factory) -> list[CallRecord]:
    """Every AWS call of a whole run of the lab's helpers as student07, then clean-up."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            mp.setenv(var, "testing")
        with mock_aws():
            load_kinesis_execution_policy()
            boto = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name=REGION)
            cfg = Config(backend="aws", window_seconds=60, region=REGION, prefix=USER,
                         home=tmp_path_factory.mktemp("home"))
            lab = LabSession(config=cfg, boto=boto, account_id=ACCOUNT)
            for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
                step(session=lab)
            for step in (wr.create_role, wr.create_function):  # the "up to date" path too
                step(session=lab)
            describe_role(session=lab)
            wait_for_logs(expected={"Shadowfax": 1}, since=time.time() - 60, timeout=0,
                          progress=False, session=lab)
            leftovers(session=lab)
            wr.clean_up(session=lab)
            wr.clean_up(session=lab)  # nothing left: the "already gone" path
            return list(lab.calls)


def test_the_policy_is_a_valid_managed_policy():
    doc = policy()
    assert doc["Version"] == "2012-10-17"
    compact = json.dumps(doc, separators=(",", ":"))
    assert len(compact) <= 6144  # IAM's limit for a managed policy, whitespace aside
    sids = [st["Sid"] for st in doc["Statement"]]
    assert len(sids) == len(set(sids))
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all("*" not in a and a.count(":") == 1 for a in actions), st["Sid"]
        if st["Resource"] == "*":
            assert set(a.split(":")[1] for a in actions) <= UNSCOPED, st["Sid"]


def test_the_policy_allows_every_call_the_lab_makes_on_the_students_own_resources(lab_calls):
    doc = policy()
    calls = [(c.service, c.operation, c.params) for c in lab_calls] + OTHER_CALLS
    assert len({c[1] for c in calls}) > 40  # the run really covered the lab
    refused = sorted({f"{action_of(s, o)} on {resource_of(s, o, p)}" for s, o, p in calls
                      if not allowed(doc, action_of(s, o), resource_of(s, o, p), USER)})
    assert refused == []


def test_the_policy_refuses_the_same_calls_on_another_students_resources(lab_calls):
    doc = policy()
    calls = [(c.service, c.operation, c.params) for c in lab_calls] + OTHER_CALLS
    leaked = []
    for service, operation, params in calls:
        resource = resource_of(service, operation, params)
        if resource == "*" or resource.startswith("arn:aws:iam::aws:"):
            continue
        theirs = resource.replace(USER, OTHER)
        if allowed(doc, action_of(service, operation), theirs, USER):
            leaked.append(f"{action_of(service, operation)} on {theirs}")
    assert leaked == []


def test_what_the_policy_cannot_scope_by_resource_it_scopes_by_condition():
    by_sid = {st["Sid"]: st for st in policy()["Statement"]}
    mappings = by_sid["TriggersOfOwnFunctionOnly"]
    assert mappings["Condition"]["ArnLike"]["lambda:FunctionArn"].endswith(
        ":function:${aws:username}-WildRydesAggregator")
    assert by_sid["PassOwnRoleToLambdaOnly"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    attachable = by_sid["AttachOnlyTheLabsTwoPoliciesToOwnRole"]["Condition"]["ArnLike"][
        "iam:PolicyARN"]
    assert attachable == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
        "arn:aws:iam::*:policy/${aws:username}-unicorn-aggregation-ddb-write-policy"]
    # Tag-on-create needs the tagging permission as well (AWS's API reference says so for
    # Kinesis, SQS and CloudWatch Logs; IAM, Lambda and DynamoDB tag the same way).
    granted = {a for st in policy()["Statement"] for a in (
        st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert {"kinesis:AddTagsToStream", "sqs:TagQueue", "logs:TagResource", "iam:TagRole",
            "iam:TagPolicy", "lambda:TagResource", "dynamodb:TagResource"} <= granted
