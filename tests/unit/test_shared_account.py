"""A shared AWS account, under in-process moto: every list call pages, everything the lab
makes is tagged, and the steps and clean-ups touch only what carries the student's tags.

The account is crowded on purpose: more than 100 IAM policies and roles, more than 100
tables and streams, more than 50 log groups, so that every list call the lab makes has more
than one page and the lab's own resources sit beyond the first one.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

import wildrydes_helpers as wr
from wildrydes_helpers.class_cleanup import class_clean_up, find_prefixes
from wildrydes_helpers.cleanup import lab_resources, leftovers
from wildrydes_helpers.config import Config
from wildrydes_helpers.errors import ResourceMismatchError
from wildrydes_helpers.iam import TRUST_POLICY, describe_role
from wildrydes_helpers.owned import (
    function_tags,
    log_group_tags,
    policy_tags,
    queue_tags,
    role_tags,
    stream_tags,
    table_tags,
)
from wildrydes_helpers.session import LabSession
from wildrydes_helpers.tags import lab_tags

ACCOUNT = "123456789012"
CROWD = 105  # > 100: one more page than the default page of IAM and DynamoDB lists
OTHER_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
DOC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def load_kinesis_execution_policy() -> None:
    """Give moto's IAM the one AWS managed policy the lab attaches.

    Loading all of them (MOTO_IAM_LOAD_MANAGED_POLICIES) costs seconds per test.
    """
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    name = "AWSLambdaKinesisExecutionRole"
    policy = AWSManagedPolicy.from_data(name, ACCOUNT, "us-east-1",
                                        json.loads(aws_managed_policies_data)[name])
    iam_backends[ACCOUNT]["global"].managed_policies[policy.arn] = policy


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    """One moto account for the module, crowded with other people's resources (built once:
    it takes seconds). Each test works with prefixes of its own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            mp.setenv(var, "testing")
        with mock_aws():
            load_kinesis_execution_policy()
            boto = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name="us-east-1")
            iam, ddb = boto.client("iam"), boto.client("dynamodb")
            kinesis, logs = boto.client("kinesis"), boto.client("logs")
            for i in range(CROWD):
                iam.create_policy(PolicyName=f"aa-someone-else-policy-{i:03}", PolicyDocument=DOC)
                iam.create_role(RoleName=f"aa-someone-else-role-{i:03}",
                                AssumeRolePolicyDocument=json.dumps(OTHER_TRUST))
                ddb.create_table(
                    TableName=f"aa-someone-else-table-{i:03}", BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
                kinesis.create_stream(StreamName=f"aa-someone-else-stream-{i:03}", ShardCount=1)
            for i in range(60):  # describe_log_groups pages at 50
                logs.create_log_group(logGroupName=f"/aws/lambda/aa-someone-else-{i:03}")
            yield boto, tmp_path_factory.mktemp("homes")


@pytest.fixture
def account(crowd):
    """A session factory on the crowded account: ``account("s1")`` is student s1."""
    boto, homes = crowd

    def session(prefix: str) -> LabSession:
        cfg = Config(backend="aws", window_seconds=60, region="us-east-1",
                     home=homes / (prefix or "none"), prefix=prefix)
        return LabSession(config=cfg, boto=boto, account_id=ACCOUNT)

    return session


def crowd_size(lab: LabSession) -> dict[str, int]:
    """How many of the crowd's policies and roles exist (they must all survive)."""
    iam = lab.client("iam")
    policies = iam.get_paginator("list_policies").paginate(Scope="Local").build_full_result()
    roles = iam.get_paginator("list_roles").paginate().build_full_result()
    return {"policies": sum(p["PolicyName"].startswith("aa-") for p in policies["Policies"]),
            "roles": sum(r["RoleName"].startswith("aa-") for r in roles["Roles"])}


def build_lab(lab: LabSession) -> None:
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=lab)


def all_tags(lab: LabSession) -> dict[str, dict[str, str]]:
    cfg = lab.config
    table = lab.client("dynamodb").describe_table(TableName=cfg.table_name)["Table"]["TableArn"]
    fn = lab.client("lambda").get_function_configuration(FunctionName=cfg.function_name)
    queue = lab.client("sqs").get_queue_url(QueueName=cfg.failure_queue_name)["QueueUrl"]
    policy = f"arn:aws:iam::{ACCOUNT}:policy/{cfg.write_policy_name}"
    return {"stream": stream_tags(lab, cfg.stream_name), "table": table_tags(lab, table),
            "role": role_tags(lab, cfg.role_name), "policy": policy_tags(lab, policy),
            "function": function_tags(lab, fn["FunctionArn"]),
            "queue": queue_tags(lab, queue), "log group": log_group_tags(lab, cfg.log_group_name)}


def first_pages(boto: boto3.Session) -> dict[str, list[str]]:
    """What a caller reading only the first page of each list would see."""
    return {
        "policy": [p["PolicyName"] for p in
                   boto.client("iam").list_policies(Scope="Local")["Policies"]],
        "role": [r["RoleName"] for r in boto.client("iam").list_roles()["Roles"]],
        "table": boto.client("dynamodb").list_tables()["TableNames"],
        "stream": boto.client("kinesis").list_streams()["StreamNames"],
        "log group": [g["logGroupName"] for g in boto.client("logs").describe_log_groups(
            logGroupNamePrefix="/aws/lambda/")["logGroups"]],
    }


def test_everything_the_lab_creates_carries_its_tags(account):
    lab = account("tag1")
    build_lab(lab)
    assert all_tags(lab) == {kind: lab_tags(lab.config) for kind in (
        "stream", "table", "role", "policy", "function", "queue", "log group")}
    assert lab_tags(lab.config) == {"wildrydes:lab": "tumbling-windows",
                                    "wildrydes:prefix": "tag1"}
    # A second run finds everything its own and changes nothing.
    assert wr.create_function(session=lab).status == "up to date"
    assert wr.create_role(session=lab).status == "up to date"


def test_the_labs_resources_sit_beyond_the_first_page_and_are_still_found(account):
    lab = account("page1")
    build_lab(lab)
    cfg = lab.config
    seen = first_pages(lab.boto)
    # Precondition: a first-page-only reader would miss every one of them.
    assert cfg.write_policy_name not in seen["policy"]
    # moto orders roles by their random id: the role may or may not be on the first page,
    # but there is a second page to read.
    assert lab.client("iam").list_roles()["IsTruncated"]
    assert cfg.table_name not in seen["table"]
    assert cfg.stream_name not in seen["stream"]
    assert cfg.log_group_name not in seen["log group"]

    found = {(x.kind, x.name): x.ours for x in leftovers(session=lab)}
    assert found == {(kind, name): True for kind, name in lab_resources(cfg)}
    report = describe_role(session=lab)
    assert report.attached == ["AWSLambdaKinesisExecutionRole", cfg.write_policy_name]
    assert report.write_policy["Statement"][0]["Action"] == "dynamodb:PutItem"
    assert report.tags == lab_tags(cfg)

    before = crowd_size(lab)
    result = wr.clean_up(session=lab)
    assert result.status == "deleted"
    for kind, name in lab_resources(cfg):
        assert f"{kind} {name}" in result.details["deleted"]
    assert "left alone" not in result.details
    assert list(leftovers(session=lab)) == []
    assert crowd_size(lab) == before == {"policies": CROWD, "roles": CROWD}


def swap_for_strangers(lab: LabSession) -> None:
    """Replace the student's role, policy and table by same-named ones that are not theirs:
    an untagged role and policy (made by hand) and a table tagged for prefix zz9."""
    cfg = lab.config
    iam, ddb = lab.client("iam"), lab.client("dynamodb")
    policy = f"arn:aws:iam::{ACCOUNT}:policy/{cfg.write_policy_name}"
    for arn in [p["PolicyArn"] for p in
                iam.list_attached_role_policies(RoleName=cfg.role_name)["AttachedPolicies"]]:
        iam.detach_role_policy(RoleName=cfg.role_name, PolicyArn=arn)
    iam.delete_role(RoleName=cfg.role_name)
    iam.delete_policy(PolicyArn=policy)
    iam.create_role(RoleName=cfg.role_name, AssumeRolePolicyDocument=json.dumps(OTHER_TRUST))
    iam.create_policy(PolicyName=cfg.write_policy_name, PolicyDocument=DOC)
    ddb.delete_table(TableName=cfg.table_name)
    ddb.create_table(TableName=cfg.table_name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "name", "KeyType": "HASH"},
                                {"AttributeName": "windowStart", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"},
                                           {"AttributeName": "windowStart",
                                            "AttributeType": "S"}],
                     Tags=[{"Key": "wildrydes:lab", "Value": "tumbling-windows"},
                           {"Key": "wildrydes:prefix", "Value": "zz9"}])


def test_clean_up_leaves_other_peoples_same_named_resources_alone_and_names_them(account):
    mine, neighbour = account("left1"), account("left2")
    build_lab(mine)
    build_lab(neighbour)
    swap_for_strangers(mine)
    cfg = mine.config

    result = wr.clean_up(session=mine)
    alone = result.details["left alone"]
    assert f"role {cfg.role_name} (it has no wildrydes:lab tag" in alone
    assert f"policy {cfg.write_policy_name} (it has no wildrydes:lab tag" in alone
    assert f"table {cfg.table_name} (it is tagged for another prefix ('zz9'))" in alone
    assert "Left alone 3 resource(s)" in result.message
    for kind, name in lab_resources(cfg):
        if kind not in ("role", "policy", "table"):
            assert f"{kind} {name}" in result.details["deleted"]
    # The strangers' resources are all still there, unchanged.
    iam = mine.client("iam")
    assert iam.get_role(RoleName=cfg.role_name)["Role"]["AssumeRolePolicyDocument"] \
        == OTHER_TRUST
    iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/{cfg.write_policy_name}")
    mine.client("dynamodb").describe_table(TableName=cfg.table_name)
    left = {(x.kind, x.name): x for x in leftovers(session=mine)}
    assert {k for k, x in left.items() if x.ours} == set()
    assert set(left) == {("role", cfg.role_name), ("policy", cfg.write_policy_name),
                         ("table", cfg.table_name)}
    # The neighbour's lab is whole.
    assert {(x.kind, x.ours) for x in leftovers(session=neighbour)} == {
        (kind, True) for kind, _ in lab_resources(neighbour.config)}


def test_steps_refuse_to_update_what_is_not_theirs(account, monkeypatch):
    from wildrydes_helpers import stream

    monkeypatch.setattr(stream, "STREAM_TAGS_SETTLE_S", 0.0)  # no kernel is about to tag it
    lab = account("refuse1")
    build_lab(lab)
    swap_for_strangers(lab)
    cfg = lab.config
    with pytest.raises(ResourceMismatchError, match=f"IAM role {cfg.role_name} already"):
        wr.create_role(session=lab)
    # The role was not "repaired" into the lab's role.
    trust = lab.client("iam").get_role(RoleName=cfg.role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust == OTHER_TRUST != TRUST_POLICY
    with pytest.raises(ResourceMismatchError, match="tagged for another prefix"):
        wr.create_table(session=lab)

    stranger = account("refuse2")
    lab.client("kinesis").create_stream(StreamName=stranger.config.stream_name, ShardCount=1)
    lab.client("kinesis").add_tags_to_stream(StreamName=stranger.config.stream_name,
                                             Tags={"team": "data"})
    with pytest.raises(ResourceMismatchError, match="no wildrydes:lab tag"):
        wr.create_stream(session=stranger)
    assert stream_tags(stranger, stranger.config.stream_name) == {"team": "data"}


def test_create_function_leaves_a_strangers_function_as_it_is(account):
    lab = account("fn1")
    build_lab(lab)
    lam = lab.client("lambda")
    cfg = lab.config
    arn = lam.get_function_configuration(FunctionName=cfg.function_name)["FunctionArn"]
    lam.untag_resource(Resource=arn, TagKeys=["wildrydes:lab", "wildrydes:prefix"])
    lam.update_function_configuration(FunctionName=cfg.function_name, Timeout=3)
    with pytest.raises(ResourceMismatchError, match="Lambda function"):
        wr.create_function(session=lab)
    assert lam.get_function_configuration(FunctionName=cfg.function_name)["Timeout"] == 3


def test_include_untagged_deletes_an_untagged_copy_but_never_another_prefix(account):
    lab = account("old1")
    build_lab(lab)
    swap_for_strangers(lab)
    cfg = lab.config
    result = wr.clean_up(include_untagged=True, session=lab)
    assert f"role {cfg.role_name}" in result.details["deleted"]
    assert f"policy {cfg.write_policy_name}" in result.details["deleted"]
    assert result.details["left alone"].startswith(f"table {cfg.table_name}")
    assert [(x.kind, x.ours) for x in leftovers(session=lab)] == [("table", False)]


def test_class_clean_up_finds_every_prefix_and_deletes_only_tagged(account):
    s1, s2 = account("class1"), account("class2")
    build_lab(s1)
    build_lab(s2)
    swap_for_strangers(s1)
    teacher = account("")
    assert {"class1", "class2"} <= set(find_prefixes(teacher))

    dry = class_clean_up(["class1", "class2"], dry_run=True, session=teacher)
    assert dry.by_prefix["class2"].deleted[0].startswith("trigger ")
    assert dry.by_prefix["class2"].deleted[1:] == [
        f"{kind} {name}" for kind, name in (
            ("function", "class2-WildRydesAggregator"), ("role", "class2-unicorn-aggregation-role"),
            ("policy", "class2-unicorn-aggregation-ddb-write-policy"),
            ("table", "class2-UnicornAggregation"), ("stream", "class2-wildrydes"),
            ("queue", "class2-wildrydes-aggregator-failures"),
            ("log group", "/aws/lambda/class2-WildRydesAggregator"))]
    assert "prefix class2: would delete trigger " in dry.report()
    assert len(list(leftovers(session=s2))) == 7  # nothing deleted yet

    before = crowd_size(teacher)
    done = class_clean_up(session=teacher)
    report = done.report()
    assert "prefix class1: left alone role class1-unicorn-aggregation-role" in report
    assert "prefix class1: left alone table class1-UnicornAggregation (it is tagged for " \
           "another prefix ('zz9'))" in report
    assert list(leftovers(session=s2)) == []
    assert {x.kind for x in leftovers(session=s1)} == {"role", "policy", "table"}
    assert crowd_size(teacher) == before
    assert "class1" not in find_prefixes(teacher) and "class2" not in find_prefixes(teacher)


def test_the_class_clean_up_command(account, monkeypatch, capsys):
    from wildrydes_helpers import lab_step
    from wildrydes_helpers.cli.main import main

    s1 = account("cli1")
    build_lab(s1)
    teacher = account("")
    monkeypatch.setattr(lab_step, "get_session", lambda session=None: session or teacher)
    assert main(["class-clean-up", "--prefix", "cli1", "--dry-run"]) == 0
    assert "prefix cli1: would delete trigger " in capsys.readouterr().out
    assert len(list(leftovers(session=s1))) == 7
    assert main(["class-clean-up", "--all"]) == 0
    assert "prefix cli1: deleted trigger " in capsys.readouterr().out
    assert list(leftovers(session=s1)) == []
    assert main(["class-clean-up", "--all"]) == 0
    assert "nothing to clean up" in capsys.readouterr().out


def test_a_stream_is_tagged_even_where_create_stream_drops_the_tags(account):
    # moto drops CreateStream's Tags; the step reads them back and adds what is missing.
    lab = account("stream1")
    wr.create_stream(session=lab)
    assert stream_tags(lab, lab.config.stream_name) == lab_tags(lab.config)
    calls = [c.operation for c in wr.create_stream(session=lab).calls]
    assert "AddTagsToStream" not in calls and "CreateStream" not in calls


def test_prefixless_lab_is_tagged_with_a_dash(account):
    lab = account("")
    wr.create_stream(session=lab)
    assert stream_tags(lab, "wildrydes") == {"wildrydes:lab": "tumbling-windows",
                                             "wildrydes:prefix": "-"}
    other = account("dash1")
    assert wr.clean_up(session=other).status == "nothing to delete"
    assert wr.clean_up(session=lab).details["deleted"].startswith("stream wildrydes")


def test_a_stream_another_kernel_is_still_tagging_is_waited_for(account, monkeypatch):
    # Where CreateStream drops its tags, the kernel that made the stream tags it a moment
    # later; another kernel of the same student must not take it for a stranger's.
    from wildrydes_helpers import stream

    lab = account("settle1")
    name = lab.config.stream_name
    lab.client("kinesis").create_stream(StreamName=name, ShardCount=1)
    reads: list[str] = []
    real = stream.stream_tags

    def tagged_on_the_second_read(session: LabSession, stream_name: str) -> dict[str, str]:
        reads.append(stream_name)
        if len(reads) == 2:
            session.client("kinesis").add_tags_to_stream(StreamName=stream_name,
                                                         Tags=lab_tags(session.config))
        return real(session, stream_name)

    monkeypatch.setattr(stream, "stream_tags", tagged_on_the_second_read)
    assert wr.create_stream(session=lab).status == "already exists"
    assert len(reads) >= 2
