"""Step 2: the function's role: the managed Kinesis policy and the lab's write policy.

The write policy allows two actions, each on one resource: ``dynamodb:PutItem`` on the table,
and ``sqs:SendMessage`` on the trigger's on-failure queue. AWS's developer guide: "To send
records of failed batches to an SQS queue or SNS topic, your function needs additional
permissions" (``sqs:SendMessage`` for SQS).

Example
-------
>>> from wildrydes_helpers.iam import create_role
>>> create_role()          # doctest: +SKIP
02_create_role: created. Created role unicorn-aggregation-role ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .config import MANAGED_POLICY_ARN_SUFFIX
from .errors import PrerequisiteError
from .lab_step import lab_step
from .notebook_names import NB_ROLE
from .owned import policy_tags, refuse_unless_ours, role_tags
from .session import LabSession
from .step_result import StepResult, mask_arn
from .table import table_arn
from .tags import lab_tags, tag_list

MAX_POLICY_VERSIONS = 5  # IAM's limit per managed policy
POLICY_DESCRIPTION = "Lets WildRydesAggregator write to its table and failure queue only."

TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
}


def write_policy_document(table: str, failure_queue: str) -> dict[str, Any]:
    """The policy that lets the function put items into exactly this table, and lets its
    trigger send failure records to exactly this queue; nothing else.

    Example
    -------
    >>> doc = write_policy_document("arn:aws:dynamodb:us-east-1:123456789012:table/T",
    ...                             "arn:aws:sqs:us-east-1:123456789012:Q")
    >>> [(s["Action"], s["Resource"].rsplit(":", 1)[-1]) for s in doc["Statement"]]
    [('dynamodb:PutItem', 'table/T'), ('sqs:SendMessage', 'Q')]
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table},
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": failure_queue},
        ],
    }


def failure_queue_arn(queue_name: str, table: str) -> str:
    """The on-failure queue's ARN, known before the queue exists (step 3 creates it).

    Example
    -------
    >>> failure_queue_arn("Q", "arn:aws:dynamodb:us-east-1:123456789012:table/T")
    'arn:aws:sqs:us-east-1:123456789012:Q'
    """
    parts = arn_parts(table)
    return f"arn:{parts['partition']}:sqs:{parts['region']}:{parts['account']}:{queue_name}"


def arn_parts(arn: str) -> dict[str, str]:
    """Partition, service, region and account of an ARN.

    Example
    -------
    >>> arn_parts("arn:aws:dynamodb:us-east-1:123456789012:table/T")["region"]
    'us-east-1'
    """
    _, partition, service, region, account, *_ = arn.split(":", 5)
    return {"partition": partition, "service": service, "region": region, "account": account}


def managed_policy_arn(partition: str = "aws") -> str:
    """The ARN of AWSLambdaKinesisExecutionRole in ``partition``.

    Example
    -------
    >>> managed_policy_arn()
    'arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole'
    """
    return f"arn:{partition}:iam::aws:{MANAGED_POLICY_ARN_SUFFIX}"


def _get_role(lab: LabSession, name: str) -> dict[str, Any] | None:
    iam = lab.client("iam")
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _decoded(document: Any) -> Any:
    if isinstance(document, str):  # botocore normally decodes it already
        return json.loads(unquote(document))
    return document


def _ensure_policy(lab: LabSession, arn: str, name: str, document: dict[str, Any]) -> str:
    """Create the write policy, or give it a new default version if its document differs.

    An existing policy without the lab's tags for this prefix is not touched
    (ResourceMismatchError).
    """
    iam = lab.client("iam")
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document),
                          Description=POLICY_DESCRIPTION,
                          Tags=tag_list(lab_tags(lab.config)))
        return "created"
    refuse_unless_ours("IAM policy", name, policy_tags(lab, arn), lab.config)
    current = iam.get_policy_version(
        PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    if _decoded(current) == document:
        return "up to date"
    versions = [v for page in iam.get_paginator("list_policy_versions").paginate(PolicyArn=arn)
                for v in page["Versions"]]
    if len(versions) >= MAX_POLICY_VERSIONS:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]),
                     key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document),
                              SetAsDefault=True)
    return "updated"


def write_policy_arn(name: str, table: str) -> str:
    """The write policy's ARN: same partition and account as the table's ARN.

    Example
    -------
    >>> write_policy_arn("p", "arn:aws:dynamodb:us-east-1:123456789012:table/T")
    'arn:aws:iam::123456789012:policy/p'
    """
    parts = arn_parts(table)
    return f"arn:{parts['partition']}:iam::{parts['account']}:policy/{name}"


def attached_policy_arns(lab: LabSession, role: str) -> list[str]:
    """The ARNs of the managed policies attached to ``role``, over every page.

    Example
    -------
    >>> attached_policy_arns(get_session(), "unicorn-aggregation-role")   # doctest: +SKIP
    ['arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole', ...]
    """
    pages = lab.client("iam").get_paginator("list_attached_role_policies").paginate(RoleName=role)
    return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]


@lab_step(NB_ROLE)
def create_role(*, session: LabSession | None = None) -> StepResult:
    """Create the role, attach the managed Kinesis policy and the table's write policy.

    Needs the table of step 1 (its ARN goes into the write policy). A role or policy of
    that name without the lab's tags for this prefix (another student's, or one made by
    hand) raises ResourceMismatchError and is left as it is.

    Example
    -------
    >>> create_role().details["write policy"]   # doctest: +SKIP
    'unicorn-aggregation-ddb-write-policy: created'
    """
    assert session is not None
    cfg = session.config
    table = table_arn(session=session)
    parts = arn_parts(table)
    iam = session.client("iam")
    changes: list[str] = []

    role = _get_role(session, cfg.role_name)
    if role is None:
        iam.create_role(RoleName=cfg.role_name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                        Description="Execution role of the WildRydesAggregator function.",
                        Tags=tag_list(lab_tags(cfg)))
        role_state = "created"
        changes.append("role")
    else:
        refuse_unless_ours("IAM role", cfg.role_name, role_tags(session, cfg.role_name), cfg)
        if _decoded(role.get("AssumeRolePolicyDocument")) != TRUST_POLICY:
            iam.update_assume_role_policy(RoleName=cfg.role_name,
                                          PolicyDocument=json.dumps(TRUST_POLICY))
            role_state = "trust policy updated"
            changes.append("trust policy")
        else:
            role_state = "already exists"

    policy_arn = write_policy_arn(cfg.write_policy_name, table)
    policy_state = _ensure_policy(session, policy_arn, cfg.write_policy_name,
                                  write_policy_document(
                                      table, failure_queue_arn(cfg.failure_queue_name, table)))
    if policy_state != "up to date":
        changes.append(f"write policy {policy_state}")

    attached = set(attached_policy_arns(session, cfg.role_name))
    for arn in (managed_policy_arn(parts["partition"]), policy_arn):
        if arn not in attached:
            iam.attach_role_policy(RoleName=cfg.role_name, PolicyArn=arn)
            changes.append(f"attached {arn.rsplit('/', 1)[-1]}")

    status = "created" if role_state == "created" else ("updated" if changes else "up to date")
    message = ("Created the role and its policies." if status == "created" else
               f"Updated: {', '.join(changes)}." if changes else
               "The role and its policies already exist and are up to date; nothing changed.")
    return StepResult(NB_ROLE, status, message, {
        "role": f"{cfg.role_name}: {role_state}",
        "managed policy": "AWSLambdaKinesisExecutionRole: attached",
        "write policy": f"{cfg.write_policy_name}: {policy_state}",
        "allows": (f"dynamodb:PutItem on {mask_arn(table)} only; sqs:SendMessage on "
                   f"{mask_arn(failure_queue_arn(cfg.failure_queue_name, table))} only"),
    })


@lab_step(NB_ROLE)
def role_arn(*, session: LabSession | None = None) -> str:
    """The role's ARN; PrerequisiteError naming step 2 if it does not exist.

    Example
    -------
    >>> role_arn()   # doctest: +SKIP
    'arn:aws:iam::123456789012:role/unicorn-aggregation-role'
    """
    assert session is not None
    role = _get_role(session, session.config.role_name)
    if role is None:
        raise PrerequisiteError(
            f"The IAM role {session.config.role_name} does not exist yet. Run step 2 "
            f"({NB_ROLE}) first.")
    return str(role["Arn"])


@dataclass
class RoleReport:
    """What 02 checks about the role: its trust policy, every attached policy (all pages),
    the write policy's document and the role's tags.

    Example
    -------
    >>> RoleReport({}, ["AWSLambdaKinesisExecutionRole"], "arn:p", {}, {}).attached
    ['AWSLambdaKinesisExecutionRole']
    """

    trust: dict[str, Any]
    attached: list[str]
    write_policy_arn: str
    write_policy: dict[str, Any]
    tags: dict[str, str]
    calls: list[Any] = field(default_factory=list)


@lab_step(NB_ROLE)
def describe_role(*, session: LabSession | None = None) -> RoleReport:
    """Read back the role and its write policy as they are in the account (every list call
    paged), for 02's checks.

    Example
    -------
    >>> print(json.dumps(describe_role().write_policy, indent=2))   # doctest: +SKIP
    """
    assert session is not None
    cfg = session.config
    role = _get_role(session, cfg.role_name)
    if role is None:
        raise PrerequisiteError(
            f"The IAM role {cfg.role_name} does not exist yet. Run step 2 ({NB_ROLE}) first.")
    arn = write_policy_arn(cfg.write_policy_name, table_arn(session=session))
    iam = session.client("iam")
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    return RoleReport(
        trust=_decoded(role.get("AssumeRolePolicyDocument")),
        attached=sorted(a.rsplit("/", 1)[-1] for a in attached_policy_arns(session, cfg.role_name)),
        write_policy_arn=arn,
        write_policy=_decoded(version["PolicyVersion"]["Document"]),
        tags=role_tags(session, cfg.role_name))
