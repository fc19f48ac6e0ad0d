"""Read the tags of each kind of resource the lab makes, and refuse to touch one not ours.

One small reader per service (each reads every page), so that the steps (stream, table,
iam, function) and the clean-ups ask the same question the same way: "does this resource,
found by name, carry this student's lab tags?" (tags.py says what that means).

Example
-------
>>> refuse_unless_ours("role", "r", {}, Config())  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
wildrydes_helpers.errors.ResourceMismatchError: The role r already exists in this account, but ...
"""

from __future__ import annotations

from typing import Any

from .config import Config
from .errors import ResourceMismatchError
from .notebook_names import NB_CLEANUP
from .session import LabSession
from .tags import ownership, tag_dict


def stream_tags(lab: LabSession, name: str) -> dict[str, str]:
    """Every tag of a Kinesis stream (ListTagsForStream, page by page).

    Example
    -------
    >>> stream_tags(get_session(), "wildrydes")   # doctest: +SKIP
    {'wildrydes:lab': 'tumbling-windows', 'wildrydes:prefix': '-'}
    """
    kinesis = lab.client("kinesis")
    tags: dict[str, str] = {}
    params: dict[str, Any] = {"StreamName": name}
    while True:
        page = kinesis.list_tags_for_stream(**params)
        tags.update(tag_dict(page.get("Tags")))
        if not page.get("HasMoreTags") or not page.get("Tags"):
            return tags
        params["ExclusiveStartTagKey"] = page["Tags"][-1]["Key"]


def table_tags(lab: LabSession, arn: str) -> dict[str, str]:
    """Every tag of a DynamoDB table, by its ARN.

    Example
    -------
    >>> table_tags(get_session(), "arn:aws:dynamodb:us-east-1:1:table/T")  # doctest: +SKIP
    """
    ddb = lab.client("dynamodb")
    tags: dict[str, str] = {}
    for page in ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn):
        tags.update(tag_dict(page.get("Tags")))
    return tags


def role_tags(lab: LabSession, name: str) -> dict[str, str]:
    """Every tag of an IAM role.

    Example
    -------
    >>> role_tags(get_session(), "unicorn-aggregation-role")   # doctest: +SKIP
    """
    iam = lab.client("iam")
    tags: dict[str, str] = {}
    for page in iam.get_paginator("list_role_tags").paginate(RoleName=name):
        tags.update(tag_dict(page.get("Tags")))
    return tags


def policy_tags(lab: LabSession, arn: str) -> dict[str, str]:
    """Every tag of a customer managed IAM policy.

    Example
    -------
    >>> policy_tags(get_session(), "arn:aws:iam::1:policy/p")   # doctest: +SKIP
    """
    iam = lab.client("iam")
    tags: dict[str, str] = {}
    for page in iam.get_paginator("list_policy_tags").paginate(PolicyArn=arn):
        tags.update(tag_dict(page.get("Tags")))
    return tags


def function_tags(lab: LabSession, arn: str) -> dict[str, str]:
    """Every tag of a Lambda function, by its ARN (ListTags has one page).

    Example
    -------
    >>> function_tags(get_session(), "arn:aws:lambda:us-east-1:1:function:f")  # doctest: +SKIP
    """
    return tag_dict(lab.client("lambda").list_tags(Resource=arn).get("Tags"))


def queue_tags(lab: LabSession, url: str) -> dict[str, str]:
    """Every tag of an SQS queue, by its URL (ListQueueTags has one page).

    Example
    -------
    >>> queue_tags(get_session(), "http://.../q")   # doctest: +SKIP
    """
    return tag_dict(lab.client("sqs").list_queue_tags(QueueUrl=url).get("Tags"))


def log_group_tags(lab: LabSession, name: str) -> dict[str, str]:
    """Every tag of a CloudWatch Logs log group, by its name (one page).

    ListTagsLogGroup is on its way to deprecation, but ListTagsForResource needs the ARN,
    and both backends answer this one.

    Example
    -------
    >>> log_group_tags(get_session(), "/aws/lambda/WildRydesAggregator")  # doctest: +SKIP
    """
    return tag_dict(lab.client("logs").list_tags_log_group(logGroupName=name).get("tags"))


def refuse_unless_ours(kind: str, name: str, tags: dict[str, str], cfg: Config) -> None:
    """Raise ResourceMismatchError if a resource found by name is not this student's.

    Example
    -------
    >>> from wildrydes_helpers.tags import lab_tags
    >>> refuse_unless_ours("table", "T", lab_tags(Config()), Config()) is None
    True
    """
    owner = ownership(tags, cfg)
    if owner.ours:
        return
    raise ResourceMismatchError(
        f"The {kind} {name} already exists in this account, but {owner.reason}. "
        "It may be another student's, so the lab leaves it alone. Choose your own prefix "
        "(e.g. `export WILDRYDES_PREFIX=<your user name>`, then restart the kernel), or ask "
        f"whoever made it to delete it ({NB_CLEANUP} deletes only resources carrying the "
        "lab's tags).")
