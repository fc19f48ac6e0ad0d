"""Steps 00-2 against the local cloud: created once, then reported as already there."""

from __future__ import annotations

import json

import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import calls_named, prefixed
from wildrydes_helpers.errors import PrerequisiteError, ResourceMismatchError
from wildrydes_helpers.tags import lab_tags, tag_list


def test_create_stream_twice_reuses_it(lab):
    s = prefixed(lab, "hs-stream")
    first = wr.create_stream(session=s)
    second = wr.create_stream(shard_count=3, session=s)
    assert first.status == "created" and first.changed
    assert second.status == "already exists" and not second.changed
    assert second.details["shards"] == 1  # the existing stream's count, not the one asked
    assert calls_named(first.calls, "CreateStream")[0].params == {
        "StreamName": "hs-stream-wildrydes", "ShardCount": 1, "Tags": lab_tags(s.config)}
    assert not calls_named(second.calls, "CreateStream")
    assert wr.stream_arn(session=s).endswith(":stream/hs-stream-wildrydes")
    assert wr.shard_ids(session=s) == ["shardId-000000000000"]


def test_create_table_twice_with_the_labs_keys(lab):
    s = prefixed(lab, "hs-table")
    first = wr.create_table(session=s)
    second = wr.create_table(session=s)
    assert (first.status, second.status) == ("created", "already exists")
    params = calls_named(first.calls, "CreateTable")[0].params
    assert params["TableName"] == "hs-table-UnicornAggregation"
    assert params["BillingMode"] == "PAY_PER_REQUEST"
    assert params["KeySchema"] == [{"AttributeName": "name", "KeyType": "HASH"},
                                   {"AttributeName": "windowStart", "KeyType": "RANGE"}]
    assert {a["AttributeType"] for a in params["AttributeDefinitions"]} == {"S"}
    assert not calls_named(second.calls, "CreateTable")


def test_a_table_with_other_keys_is_a_mismatch_with_a_fix(lab):
    s = prefixed(lab, "hs-mismatch")
    s.client("dynamodb").create_table(
        TableName=s.config.table_name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        Tags=tag_list(lab_tags(s.config)))  # the student's own table, with other keys
    with pytest.raises(ResourceMismatchError) as err:
        wr.create_table(session=s)
    text = str(err.value)
    assert "'id'" in text and "'name'" in text and "06_clean_up" in text


def test_create_role_twice_allows_putitem_on_the_table_and_sendmessage_on_the_queue(lab):
    s = prefixed(lab, "hs-role")
    wr.create_table(session=s)
    first = wr.create_role(session=s)
    second = wr.create_role(session=s)
    assert (first.status, second.status) == ("created", "up to date")
    doc = json.loads(calls_named(first.calls, "CreatePolicy")[0].params["PolicyDocument"])
    assert doc["Statement"] == [{
        "Effect": "Allow", "Action": "dynamodb:PutItem",
        "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/hs-role-UnicornAggregation"}, {
        "Effect": "Allow", "Action": "sqs:SendMessage",
        "Resource": "arn:aws:sqs:us-east-1:123456789012:hs-role-wildrydes-aggregator-failures"}]
    attached = {c.params["PolicyArn"] for c in calls_named(first.calls, "AttachRolePolicy")}
    assert attached == {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
        "arn:aws:iam::123456789012:policy/hs-role-unicorn-aggregation-ddb-write-policy"}
    trust = json.loads(calls_named(first.calls, "CreateRole")[0].params[
        "AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    changing = {"CreateRole", "CreatePolicy", "CreatePolicyVersion", "AttachRolePolicy"}
    assert not [c for c in second.calls if c.operation in changing]
    assert "123456789012" not in repr(first)  # the account is masked in what a student sees


def test_a_changed_policy_gets_a_new_default_version(lab):
    s = prefixed(lab, "hs-policy")
    wr.create_table(session=s)
    wr.create_role(session=s)
    iam = s.client("iam")
    arn = f"arn:aws:iam::123456789012:policy/{s.config.write_policy_name}"
    for _ in range(4):  # fill IAM's 5 versions with wrong documents
        iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
    fixed = wr.create_role(session=s)
    assert fixed.status == "updated"
    assert len(calls_named(fixed.calls, "DeletePolicyVersion")) == 1
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    default = next(v for v in versions if v["IsDefaultVersion"])
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=default["VersionId"])
    assert doc["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "dynamodb:PutItem"
    assert len(versions) == 5


def test_role_before_table_names_step_1(lab):
    with pytest.raises(PrerequisiteError, match="01_create_table"):
        wr.create_role(session=prefixed(lab, "hs-norole"))


def test_function_before_table_and_role_names_both_steps(lab):
    s = prefixed(lab, "hs-nofn")
    wr.create_stream(session=s)
    with pytest.raises(PrerequisiteError) as err:
        wr.create_function(session=s)
    assert "01_create_table" in str(err.value) and "02_create_role" in str(err.value)
    wr.create_table(session=s)
    with pytest.raises(PrerequisiteError) as err:
        wr.create_function(session=s)
    assert "02_create_role" in str(err.value) and "01_create_table" not in str(err.value)
