"""Step 6: delete what the lab created, in dependency order; safe to run again.

Only resources that carry this student's lab tags (tags.py) are deleted. A resource of the
lab's name without them (another student's in a shared account, or one made by hand) is
left alone and named in the result, with the reason. ``leftovers()`` reads back, over every
page of every list call, which of the lab's names still exist.

Example
-------
>>> from wildrydes_helpers.cleanup import clean_up
>>> clean_up()        # doctest: +SKIP
06_clean_up: deleted. Deleted 8 resource(s).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .config import Config
from .errors import IN_USE_CODE, error_code, is_not_found
from .iam import managed_policy_arn
from .lab_step import lab_step
from .ledger import default_ledger_path
from .notebook_names import NB_CLEANUP
from .owned import (
    function_tags,
    log_group_tags,
    policy_tags,
    queue_tags,
    role_tags,
    stream_tags,
    table_tags,
)
from .producer import background
from .session import LabSession
from .step_result import StepResult
from .stream import list_stream_names
from .tags import LAB_TAG, ownership
from .waiting import poll_until

T = TypeVar("T")

TABLE_DELETE_TIMEOUT_S = 300.0


@dataclass
class Sweep:
    """What a clean-up deleted (or, dry, would delete) and what it left alone, and why.

    Example
    -------
    >>> s = Sweep(); s.left_alone.append("role r (it has no wildrydes:lab tag)"); s.left_alone
    ['role r (it has no wildrydes:lab tag)']
    """

    deleted: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    dry_run: bool = False
    include_untagged: bool = False

    def take(self, kind: str, name: str, tags: dict[str, str], cfg: Config) -> bool:
        """True when the resource may be deleted; otherwise note it as left alone."""
        owner = ownership(tags, cfg)
        if owner.ours:
            return True
        if self.include_untagged and LAB_TAG not in tags:
            return True  # asked for: an untagged copy of the lab's own name (older labs)
        self.left_alone.append(f"{kind} {name} ({owner.reason})")
        return False

    def done(self, what: str, action: Callable[[], Any] | None = None) -> None:
        """Run ``action`` (unless dry) and record ``what`` as deleted."""
        if not self.dry_run and action is not None:
            action()
        self.deleted.append(what)


@contextlib.contextmanager
def _unless_gone(*also: str) -> Iterator[None]:
    """Run the block; a resource that is already gone (or in one of ``also``) is not an error."""
    try:
        yield
    except Exception as exc:
        if not (is_not_found(exc) or error_code(exc) in also):
            raise


def _read_or_none(read: Callable[[], T]) -> T | None:
    """``read()``, or None when what it reads does not exist (nothing to delete then)."""
    try:
        return read()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def _delete_trigger_and_function(lab: LabSession, sweep: Sweep) -> None:
    lam = lab.client("lambda")
    name = lab.config.function_name
    conf = _read_or_none(lambda: lam.get_function_configuration(FunctionName=name))
    if conf is None:
        return
    if not sweep.take("function", name, function_tags(lab, conf["FunctionArn"]), lab.config):
        return  # its triggers belong to its owner too
    pages = lam.get_paginator("list_event_source_mappings").paginate(FunctionName=name)
    for m in [m for page in pages for m in page.get("EventSourceMappings", [])]:
        with _unless_gone():
            sweep.done(f"trigger {m['UUID']}",
                       lambda uuid=m["UUID"]: lam.delete_event_source_mapping(UUID=uuid))
    with _unless_gone():
        sweep.done(f"function {name}", lambda: lam.delete_function(FunctionName=name))


def _empty_role(lab: LabSession, name: str) -> None:
    iam = lab.client("iam")
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for p in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for inline in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=inline)
    iam.delete_role(RoleName=name)


def _delete_role(lab: LabSession, sweep: Sweep) -> None:
    name = lab.config.role_name
    tags = _read_or_none(lambda: role_tags(lab, name))
    if tags is None:
        return
    if sweep.take("role", name, tags, lab.config):
        with _unless_gone():
            sweep.done(f"role {name}", lambda: _empty_role(lab, name))


def find_policy_arns(lab: LabSession, name: str) -> list[str]:
    """The ARNs of the account's own policies named ``name``, over every ListPolicies page.

    Example
    -------
    >>> find_policy_arns(get_session(), "unicorn-aggregation-ddb-write-policy")  # doctest: +SKIP
    ['arn:aws:iam::123456789012:policy/unicorn-aggregation-ddb-write-policy']
    """
    pages = lab.client("iam").get_paginator("list_policies").paginate(Scope="Local")
    return [p["Arn"] for page in pages for p in page["Policies"] if p["PolicyName"] == name]


def _delete_policy_now(lab: LabSession, arn: str) -> None:
    iam = lab.client("iam")
    for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
        for role in page.get("PolicyRoles", []):
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for user in page.get("PolicyUsers", []):
            iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        for group in page.get("PolicyGroups", []):
            iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for page in iam.get_paginator("list_policy_versions").paginate(PolicyArn=arn):
        for v in page["Versions"]:
            if not v["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
    iam.delete_policy(PolicyArn=arn)


def _delete_policy(lab: LabSession, sweep: Sweep) -> None:
    name = lab.config.write_policy_name
    for arn in find_policy_arns(lab, name):
        if sweep.take("policy", name, policy_tags(lab, arn), lab.config):
            with _unless_gone():
                sweep.done(f"policy {name}", lambda arn=arn: _delete_policy_now(lab, arn))


def _delete_table(lab: LabSession, sweep: Sweep) -> None:
    ddb = lab.client("dynamodb")
    name = lab.config.table_name
    table = _read_or_none(lambda: ddb.describe_table(TableName=name)["Table"])
    if table is None:
        return
    if not sweep.take("table", name, table_tags(lab, table["TableArn"]), lab.config):
        return
    with _unless_gone(IN_USE_CODE):  # in use: already being deleted
        sweep.done(f"table {name}", lambda: ddb.delete_table(TableName=name))
    if sweep.dry_run:
        return

    def gone() -> bool:
        try:
            ddb.describe_table(TableName=name)
            return False
        except ddb.exceptions.ResourceNotFoundException:
            return True

    poll_until(gone, TABLE_DELETE_TIMEOUT_S, what=f"table {name} to be deleted")


def _delete_stream(lab: LabSession, sweep: Sweep) -> None:
    kinesis = lab.client("kinesis")
    name = lab.config.stream_name
    tags = _read_or_none(lambda: stream_tags(lab, name))
    if tags is None:
        return
    if sweep.take("stream", name, tags, lab.config):
        with _unless_gone(IN_USE_CODE):  # in use: already being deleted
            sweep.done(f"stream {name}", lambda: kinesis.delete_stream(
                StreamName=name, EnforceConsumerDeletion=True))


def _delete_queue(lab: LabSession, sweep: Sweep) -> None:
    sqs = lab.client("sqs")
    name = lab.config.failure_queue_name
    url = _read_or_none(lambda: sqs.get_queue_url(QueueName=name)["QueueUrl"])
    if url is None:
        return
    if sweep.take("queue", name, queue_tags(lab, url), lab.config):
        with _unless_gone():
            sweep.done(f"queue {name}", lambda: sqs.delete_queue(QueueUrl=url))


def _delete_log_group(lab: LabSession, sweep: Sweep) -> None:
    logs = lab.client("logs")
    name = lab.config.log_group_name
    tags = _read_or_none(lambda: log_group_tags(lab, name))
    if tags is None:
        return
    if sweep.take("log group", name, tags, lab.config):
        with _unless_gone():
            sweep.done(f"log group {name}", lambda: logs.delete_log_group(logGroupName=name))


# The order matters: the trigger before the function, the function before its log group
# (a running function would make the group again), the role before its policy.
DELETE_STEPS: tuple[Callable[[LabSession, Sweep], None], ...] = (
    _delete_trigger_and_function, _delete_role, _delete_policy, _delete_table,
    _delete_stream, _delete_queue, _delete_log_group)


def delete_lab_resources(lab: LabSession, dry_run: bool = False,
                         include_untagged: bool = False) -> Sweep:
    """Delete (or, with ``dry_run``, only list) the AWS resources of ``lab``'s prefix that
    carry its tags; no producer, no ledger. The class clean-up calls this per prefix.

    Example
    -------
    >>> delete_lab_resources(get_session(), dry_run=True).deleted   # doctest: +SKIP
    ['function WildRydesAggregator', ...]
    """
    sweep = Sweep(dry_run=dry_run, include_untagged=include_untagged)
    for step in DELETE_STEPS:
        step(lab, sweep)
    return sweep


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
def clean_up(stop_producer: bool = True, include_untagged: bool = False, *,
             session: LabSession | None = None) -> StepResult:
    """Stop the producer and delete the lab's trigger, function, role, policy, table, stream,
    failure queue and log group: only those of the lab's names (with the class prefix if
    set) that carry this student's lab tags. Anything else is left alone and named.

    Parameters
    ----------
    stop_producer : bool
        Stop this home's background producer first.
    include_untagged : bool
        Also delete a resource of the lab's exact name that has no lab tag at all (made by
        a lab version before tags). Never one tagged for another prefix.

    Example
    -------
    >>> clean_up().details["deleted"]   # doctest: +SKIP
    'trigger ..., function WildRydesAggregator, ...'
    """
    assert session is not None
    deleted: list[str] = []
    if stop_producer and background.stop_producer(config=session.config).status == "stopped":
        deleted.append("producer (stopped)")
    sweep = delete_lab_resources(session, include_untagged=include_untagged)
    deleted += sweep.deleted
    _archive_ledger(session, deleted)
    details: dict[str, Any] = {}
    if deleted:
        details["deleted"] = ", ".join(deleted)
    if sweep.left_alone:
        details["left alone"] = "; ".join(sweep.left_alone)
    kept = f"the AWS managed policy {managed_policy_arn().rsplit('/', 1)[-1]}"
    alone = (f" Left alone {len(sweep.left_alone)} resource(s) of the lab's names that are "
             "not yours (see 'left alone')." if sweep.left_alone else "")
    if not deleted:
        return StepResult(NB_CLEANUP, "nothing to delete",
                          f"None of your lab's resources exist; nothing changed.{alone}",
                          details)
    details["kept"] = kept
    return StepResult(NB_CLEANUP, "deleted", f"Deleted {len(deleted)} resource(s).{alone}",
                      details)


@dataclass(frozen=True)
class Leftover:
    """A resource of one of the lab's names that still exists, and whether it is yours.

    Example
    -------
    >>> Leftover("role", "r", False, "it has no wildrydes:lab tag").ours
    False
    """

    kind: str
    name: str
    ours: bool
    reason: str = ""


def lab_resources(cfg: Config) -> list[tuple[str, str]]:
    """The (kind, name) of every resource the lab makes for ``cfg``'s prefix.

    Example
    -------
    >>> lab_resources(Config(prefix="s07"))[0]
    ('table', 's07-UnicornAggregation')
    """
    return [("table", cfg.table_name), ("stream", cfg.stream_name),
            ("function", cfg.function_name), ("role", cfg.role_name),
            ("policy", cfg.write_policy_name), ("queue", cfg.failure_queue_name),
            ("log group", cfg.log_group_name)]


def _existing(lab: LabSession) -> dict[tuple[str, str], dict[str, str]]:
    """Tags of each of the lab's names found by the list calls, every page of each."""
    cfg = lab.config
    found: dict[tuple[str, str], dict[str, str]] = {}
    ddb, lam, iam = lab.client("dynamodb"), lab.client("lambda"), lab.client("iam")
    sqs, logs = lab.client("sqs"), lab.client("logs")
    for page in ddb.get_paginator("list_tables").paginate():
        if cfg.table_name in page.get("TableNames", []):
            arn = ddb.describe_table(TableName=cfg.table_name)["Table"]["TableArn"]
            found[("table", cfg.table_name)] = table_tags(lab, arn)
    if cfg.stream_name in list_stream_names(lab):
        found[("stream", cfg.stream_name)] = stream_tags(lab, cfg.stream_name)
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page.get("Functions", []):
            if fn["FunctionName"] == cfg.function_name:
                found[("function", cfg.function_name)] = function_tags(lab, fn["FunctionArn"])
    for page in iam.get_paginator("list_roles").paginate():
        if any(r["RoleName"] == cfg.role_name for r in page["Roles"]):
            found[("role", cfg.role_name)] = role_tags(lab, cfg.role_name)
    for arn in find_policy_arns(lab, cfg.write_policy_name):
        found[("policy", cfg.write_policy_name)] = policy_tags(lab, arn)
    for page in sqs.get_paginator("list_queues").paginate(
            QueueNamePrefix=cfg.failure_queue_name):
        for url in page.get("QueueUrls", []):
            if url.rsplit("/", 1)[-1] == cfg.failure_queue_name:
                found[("queue", cfg.failure_queue_name)] = queue_tags(lab, url)
    for page in logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=cfg.log_group_name):
        if any(g["logGroupName"] == cfg.log_group_name for g in page.get("logGroups", [])):
            found[("log group", cfg.log_group_name)] = log_group_tags(lab, cfg.log_group_name)
    return found


class Leftovers(list[Leftover]):
    """A list of Leftover that also keeps the AWS calls that found them (for show_calls)."""

    calls: list[Any]

    def __init__(self, items: list[Leftover]) -> None:
        super().__init__(items)
        self.calls = []


@lab_step(NB_CLEANUP)
def leftovers(*, session: LabSession | None = None) -> Leftovers:
    """Which of the lab's names still exist, found by list calls read to their last page,
    each marked as yours (it carries your lab tags) or not (with the reason).

    Example
    -------
    >>> [(x.kind, x.name, x.ours) for x in leftovers()]   # doctest: +SKIP
    [('role', 'unicorn-aggregation-role', False)]
    """
    assert session is not None
    out = []
    for (kind, name), tags in _existing(session).items():
        owner = ownership(tags, session.config)
        out.append(Leftover(kind, name, owner.ours, owner.reason))
    return Leftovers(out)
