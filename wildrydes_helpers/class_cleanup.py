"""The teacher's clean-up after a class: every student's lab resources, one prefix at a time.

It finds the prefixes from the resources themselves: a resource whose name is one of the
lab's names with a prefix (``s07-wildrydes``, ``s07-UnicornAggregation``, ...) and whose
tags say the lab made it for that very prefix. Each prefix is then cleaned like a student's
own 06_clean_up would (only resources with that prefix's tags). Nothing else is touched,
and whatever carries a lab name without matching tags is named as left alone.

Example
-------
$ wildrydes class-clean-up --all --dry-run
prefix s01: would delete function s01-WildRydesAggregator, role s01-unicorn-aggregation-role, ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cleanup import Sweep, delete_lab_resources
from .config import (
    FAILURE_QUEUE_NAME,
    FUNCTION_NAME,
    ROLE_NAME,
    STREAM_NAME,
    TABLE_NAME,
    WRITE_POLICY_NAME,
    validate_prefix,
)
from .lab_step import lab_step
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
from .session import LabSession
from .stream import list_stream_names
from .tags import LAB_TAG, LAB_VALUE, PREFIX_TAG, prefix_value

LOG_GROUP_PREFIX = "/aws/lambda/"


def prefix_of_name(name: str, base: str) -> str | None:
    """The prefix in a lab resource name, "" for the bare name, None if it is not one.

    Example
    -------
    >>> prefix_of_name("s07-wildrydes", "wildrydes"), prefix_of_name("wildrydes", "wildrydes")
    ('s07', '')
    >>> prefix_of_name("wildrydes-copy", "wildrydes") is None
    True
    """
    if name == base:
        return ""
    if name.endswith(f"-{base}"):
        prefix = name[: -len(base) - 1]
        try:
            return validate_prefix(prefix)
        except ValueError:
            return None
    return None


def _tagged_for(tags: dict[str, str], prefix: str) -> bool:
    return tags.get(LAB_TAG) == LAB_VALUE and tags.get(PREFIX_TAG) == prefix_value(prefix)


def _candidates(names: Iterable[str], base: str) -> dict[str, str]:
    """{name: prefix} for the names that are ``base`` with a valid prefix (or bare)."""
    out = {}
    for name in names:
        prefix = prefix_of_name(name, base)
        if prefix is not None:
            out[name] = prefix
    return out


def find_prefixes(lab: LabSession) -> list[str]:
    """Every prefix for which some resource carries the lab's tags, found by list calls
    read to their last page (the teacher's credentials must allow them).

    Example
    -------
    >>> find_prefixes(get_session())   # doctest: +SKIP
    ['s01', 's02']
    """
    found: set[str] = set()
    ddb, lam, iam = lab.client("dynamodb"), lab.client("lambda"), lab.client("iam")
    sqs, logs = lab.client("sqs"), lab.client("logs")

    tables = [t for page in ddb.get_paginator("list_tables").paginate()
              for t in page.get("TableNames", [])]
    for name, prefix in _candidates(tables, TABLE_NAME).items():
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        if _tagged_for(table_tags(lab, arn), prefix):
            found.add(prefix)
    for name, prefix in _candidates(list_stream_names(lab), STREAM_NAME).items():
        if _tagged_for(stream_tags(lab, name), prefix):
            found.add(prefix)
    functions = {f["FunctionName"]: f["FunctionArn"]
                 for page in lam.get_paginator("list_functions").paginate()
                 for f in page.get("Functions", [])}
    for name, prefix in _candidates(functions, FUNCTION_NAME).items():
        if _tagged_for(function_tags(lab, functions[name]), prefix):
            found.add(prefix)
    roles = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate()
             for r in page["Roles"]]
    for name, prefix in _candidates(roles, ROLE_NAME).items():
        if _tagged_for(role_tags(lab, name), prefix):
            found.add(prefix)
    policies = {p["PolicyName"]: p["Arn"]
                for page in iam.get_paginator("list_policies").paginate(Scope="Local")
                for p in page["Policies"]}
    for name, prefix in _candidates(policies, WRITE_POLICY_NAME).items():
        if _tagged_for(policy_tags(lab, policies[name]), prefix):
            found.add(prefix)
    queues = {url.rsplit("/", 1)[-1]: url
              for page in sqs.get_paginator("list_queues").paginate()
              for url in page.get("QueueUrls", [])}
    for name, prefix in _candidates(queues, FAILURE_QUEUE_NAME).items():
        if _tagged_for(queue_tags(lab, queues[name]), prefix):
            found.add(prefix)
    groups = [g["logGroupName"][len(LOG_GROUP_PREFIX):]
              for page in logs.get_paginator("describe_log_groups").paginate(
                  logGroupNamePrefix=LOG_GROUP_PREFIX)
              for g in page.get("logGroups", [])]
    for name, prefix in _candidates(groups, FUNCTION_NAME).items():
        if _tagged_for(log_group_tags(lab, LOG_GROUP_PREFIX + name), prefix):
            found.add(prefix)
    return sorted(found)


@dataclass
class ClassCleanup:
    """What the class clean-up did per prefix ("" is the lab without a prefix).

    Example
    -------
    >>> print(ClassCleanup({"s01": Sweep(deleted=["stream s01-wildrydes"])}).report())
    prefix s01: deleted stream s01-wildrydes
    """

    by_prefix: dict[str, Sweep]
    dry_run: bool = False
    calls: list[Any] = field(default_factory=list)

    def report(self) -> str:
        """One line per prefix, and one per resource left alone."""
        if not self.by_prefix:
            return "No resource carries the lab's tags: nothing to clean up."
        verb = "would delete" if self.dry_run else "deleted"
        lines = []
        for prefix, sweep in sorted(self.by_prefix.items()):
            label = f"prefix {prefix}" if prefix else "no prefix"
            lines.append(f"{label}: {verb} {', '.join(sweep.deleted) or 'nothing'}")
            lines += [f"{label}: left alone {item}" for item in sweep.left_alone]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.report()


@lab_step(NB_CLEANUP)
def class_clean_up(prefixes: Sequence[str] | None = None, dry_run: bool = False, *,
                   session: LabSession | None = None) -> ClassCleanup:
    """Delete every student's lab resources (``prefixes``, or all found by their tags).

    Parameters
    ----------
    prefixes : list of str, optional
        The students' WILDRYDES_PREFIX values ("" for none). By default every prefix found.
    dry_run : bool
        Only say what would be deleted.

    Example
    -------
    >>> class_clean_up(["s01", "s02"], dry_run=True)   # doctest: +SKIP
    prefix s01: would delete function s01-WildRydesAggregator, ...
    """
    assert session is not None
    chosen = list(prefixes) if prefixes is not None else find_prefixes(session)
    result = ClassCleanup({}, dry_run=dry_run)
    for prefix in chosen:
        validate_prefix(prefix, var="--prefix")
        student = LabSession(dataclasses.replace(session.config, prefix=prefix), session.boto,
                             endpoint=session.endpoint, account_id=session.account_id,
                             boot_id=session.boot_id,
                             calls=session.calls)  # one record of calls, for show_calls
        result.by_prefix[prefix] = delete_lab_resources(student, dry_run=dry_run)
    return result
