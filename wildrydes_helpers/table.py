"""Step 1: the DynamoDB table UnicornAggregation (keys name / windowStart).

Example
-------
>>> from wildrydes_helpers.table import create_table
>>> create_table()          # doctest: +SKIP
01_create_table: created. Created table UnicornAggregation (on-demand).
"""

from __future__ import annotations

from typing import Any

from .config import TABLE_PARTITION_KEY, TABLE_SORT_KEY
from .errors import (
    IN_USE_CODE,
    PrerequisiteError,
    ResourceMismatchError,
    WildRydesError,
    error_code,
)
from .lab_step import lab_step
from .notebook_names import NB_CLEANUP, NB_TABLE
from .owned import refuse_unless_ours, table_tags
from .session import LabSession
from .step_result import StepResult
from .tags import lab_tags, tag_list
from .waiting import poll_until

TABLE_TIMEOUT_S = 300.0
KEY_SCHEMA = [
    {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"},
    {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"},
    {"AttributeName": TABLE_SORT_KEY, "AttributeType": "S"},
]


def _describe(lab: LabSession, name: str) -> dict[str, Any] | None:
    ddb = lab.client("dynamodb")
    try:
        return ddb.describe_table(TableName=name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        return None


def schema_differences(table: dict[str, Any]) -> list[str]:
    """What differs between a described table's keys and the lab's (empty if nothing).

    Example
    -------
    >>> schema_differences({"KeySchema": KEY_SCHEMA, "AttributeDefinitions": ATTRIBUTE_DEFINITIONS})
    []
    """
    def keys(schema: list[dict[str, str]]) -> dict[str, str]:
        return {k["KeyType"]: k["AttributeName"] for k in schema}

    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    have, want = keys(table.get("KeySchema", [])), keys(KEY_SCHEMA)
    out = []
    for role, label in (("HASH", "partition key"), ("RANGE", "sort key")):
        name = have.get(role)
        if name != want[role]:
            out.append(f"its {label} is {name!r}, the lab needs {want[role]!r}")
        elif types.get(name) != "S":
            out.append(f"its {label} {name!r} has type {types.get(name)!r}, the lab needs 'S'")
    return out


def _wait_active(lab: LabSession, name: str) -> dict[str, Any]:
    def active() -> dict[str, Any] | None:
        table = _describe(lab, name)
        return table if table and table["TableStatus"] == "ACTIVE" else None

    return poll_until(active, TABLE_TIMEOUT_S, what=f"table {name} to become ACTIVE")


@lab_step(NB_TABLE)
def create_table(*, session: LabSession | None = None) -> StepResult:
    """Create the aggregation table (on-demand capacity) and wait until it is ACTIVE.

    A table of that name with other keys, or without the lab's tags for this prefix (another
    student's, or one made by hand), raises ResourceMismatchError and is left as it is.

    Example
    -------
    >>> create_table().status   # doctest: +SKIP
    'created'
    """
    assert session is not None
    name = session.config.table_name
    table = _describe(session, name)
    status = "already exists"
    if table is None:
        try:
            session.client("dynamodb").create_table(
                TableName=name, KeySchema=KEY_SCHEMA,
                AttributeDefinitions=ATTRIBUTE_DEFINITIONS, BillingMode="PAY_PER_REQUEST",
                Tags=tag_list(lab_tags(session.config)))
            status = "created"
        except Exception as exc:
            if error_code(exc) != IN_USE_CODE:
                raise
        table = _describe(session, name) or {}
    if table.get("TableStatus") == "DELETING":
        raise WildRydesError(f"Table {name} is being deleted. Wait a minute and run this again.")
    if status != "created" and table.get("TableArn"):
        refuse_unless_ours("DynamoDB table", name, table_tags(session, table["TableArn"]),
                           session.config)
    diffs = schema_differences(table)
    if diffs:
        raise ResourceMismatchError(
            f"A table named {name} exists, but {'; '.join(diffs)}. Delete it with the "
            f"clean-up step ({NB_CLEANUP}, or wr.clean_up()), then run this step again.")
    table = _wait_active(session, name)
    message = (f"Created table {name} (on-demand)." if status == "created"
               else f"Table {name} already exists with the right keys; nothing changed.")
    return StepResult(NB_TABLE, status, message, {
        "table": name, "partition key": f"{TABLE_PARTITION_KEY} (S)",
        "sort key": f"{TABLE_SORT_KEY} (S)", "status": table["TableStatus"],
    })


@lab_step(NB_TABLE)
def table_arn(*, session: LabSession | None = None) -> str:
    """The table's ARN, as DynamoDB reports it; PrerequisiteError naming step 1 if missing.

    Example
    -------
    >>> table_arn()   # doctest: +SKIP
    'arn:aws:dynamodb:us-east-1:123456789012:table/UnicornAggregation'
    """
    assert session is not None
    table = _describe(session, session.config.table_name)
    if table is None:
        raise PrerequisiteError(
            f"The DynamoDB table {session.config.table_name} does not exist yet. Run step 1 "
            f"({NB_TABLE}) first.")
    return str(table["TableArn"])
