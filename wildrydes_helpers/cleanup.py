"""Step 6: delete everything the lab created, in dependency order; safe to run again.

Example
-------
>>> from wildrydes_helpers.cleanup import clean_up
>>> clean_up()        # doctest: +SKIP
06_clean_up: deleted. Deleted 8 resource(s).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .errors import IN_USE_CODE, error_code, is_not_found
from .iam import managed_policy_arn
from .lab_step import lab_step
from .ledger import default_ledger_path
from .notebook_names import NB_CLEANUP
from .producer import background
from .session import LabSession
from .step_result import StepResult
from .waiting import poll_until


@contextlib.contextmanager
def _unless_gone(*also: str) -> Iterator[None]:
    """Run the block; a resource that is already gone (or in one of ``also``) is not an error."""
    try:
        yield
    except Exception as exc:
        if not (is_not_found(exc) or error_code(exc) in also):
            raise


def _delete_trigger_and_function(lab: LabSession, deleted: list[str]) -> None:
    lam = lab.client("lambda")
    name = lab.config.function_name
    mappings: list[dict[str, Any]] = []
    with _unless_gone():
        mappings = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    for m in mappings:
        with _unless_gone():
            lam.delete_event_source_mapping(UUID=m["UUID"])
            deleted.append(f"trigger {m['UUID']}")
    with _unless_gone():
        lam.delete_function(FunctionName=name)
        deleted.append(f"function {name}")


def _delete_role(lab: LabSession, deleted: list[str]) -> None:
    iam = lab.client("iam")
    name = lab.config.role_name
    attached: list[dict[str, Any]] | None = None
    with _unless_gone():
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    if attached is None:
        return
    for p in attached:
        iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
    for inline in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=inline)
    iam.delete_role(RoleName=name)
    deleted.append(f"role {name}")


def _delete_policy(lab: LabSession, deleted: list[str]) -> None:
    iam = lab.client("iam")
    name = lab.config.write_policy_name
    pages = iam.get_paginator("list_policies").paginate(Scope="Local")
    arns = [p["Arn"] for page in pages for p in page["Policies"] if p["PolicyName"] == name]
    for arn in arns:
        for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
            for role in page.get("PolicyRoles", []):
                iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not v["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=arn)
        deleted.append(f"policy {name}")


def _delete_table(lab: LabSession, deleted: list[str]) -> None:
    ddb = lab.client("dynamodb")
    name = lab.config.table_name
    with _unless_gone(IN_USE_CODE):  # in use: already being deleted
        ddb.delete_table(TableName=name)
        deleted.append(f"table {name}")

    def gone() -> bool:
        try:
            ddb.describe_table(TableName=name)
            return False
        except ddb.exceptions.ResourceNotFoundException:
            return True

    poll_until(gone, 300.0, what=f"table {name} to be deleted")


def _delete_stream(lab: LabSession, deleted: list[str]) -> None:
    kinesis = lab.client("kinesis")
    name = lab.config.stream_name
    with _unless_gone(IN_USE_CODE):  # in use: already being deleted
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        deleted.append(f"stream {name}")


def _delete_queue(lab: LabSession, deleted: list[str]) -> None:
    sqs = lab.client("sqs")
    name = lab.config.failure_queue_name
    with _unless_gone():
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.delete_queue(QueueUrl=url)
        deleted.append(f"queue {name}")


def _delete_log_group(lab: LabSession, deleted: list[str]) -> None:
    logs = lab.client("logs")
    name = lab.config.log_group_name
    with _unless_gone():
        logs.delete_log_group(logGroupName=name)
        deleted.append(f"log group {name}")


def _archive_ledger(lab: LabSession, deleted: list[str]) -> None:
    # The ledger describes records of a table that no longer exists. Keep it (nothing is
    # lost) but out of the way, so a later 05_query runs a fresh producer instead of waiting
    # for records that can never arrive.
    path = default_ledger_path(lab.config)
    if not path.exists():
        return
    archive = path.parent / "ledgers"
    archive.mkdir(parents=True, exist_ok=True)
    path.replace(archive / f"{path.stem}-{int(path.stat().st_mtime)}{path.suffix}")
    deleted.append("producer ledger (archived)")


@lab_step(NB_CLEANUP)
def clean_up(stop_producer: bool = True, *,
             session: LabSession | None = None) -> StepResult:
    """Stop the producer and delete the lab's trigger, function, role, policy, table, stream,
    failure queue and log group (only the lab's names, with the class prefix if set).

    Example
    -------
    >>> clean_up().details["deleted"]   # doctest: +SKIP
    'trigger ..., function WildRydesAggregator, ...'
    """
    assert session is not None
    deleted: list[str] = []
    if stop_producer and background.stop_producer(config=session.config).status == "stopped":
        deleted.append("producer (stopped)")
    steps: list[Any] = [_delete_trigger_and_function, _delete_role, _delete_policy,
                        _delete_table, _delete_stream, _delete_queue, _delete_log_group,
                        _archive_ledger]
    for step in steps:
        step(session, deleted)
    if not deleted:
        return StepResult(NB_CLEANUP, "nothing to delete",
                          "None of the lab's resources exist; nothing changed.")
    return StepResult(NB_CLEANUP, "deleted", f"Deleted {len(deleted)} resource(s).",
                      {"deleted": ", ".join(deleted),
                       "kept": f"the AWS managed policy {managed_policy_arn().rsplit('/', 1)[-1]}"})
