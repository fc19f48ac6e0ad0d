"""The tags every resource of the lab carries, and whether a resource found by name is ours.

In a shared AWS account two students can meet the same resource name (the same
WILDRYDES_PREFIX, or a resource someone made by hand). Names alone cannot tell them apart,
so everything the lab creates carries two tags, and the steps that update or delete an
existing resource first read its tags:

- ``wildrydes:lab = tumbling-windows``: the lab made it;
- ``wildrydes:prefix = <WILDRYDES_PREFIX>`` (``-`` when no prefix is set): for which student.

A resource without them, or with another prefix, is left alone and named in the result.

Example
-------
>>> from wildrydes_helpers.config import Config
>>> lab_tags(Config(prefix="s07"))
{'wildrydes:lab': 'tumbling-windows', 'wildrydes:prefix': 's07'}
>>> ownership({LAB_TAG: LAB_VALUE, PREFIX_TAG: "s08"}, Config(prefix="s07"))
Ownership(ours=False, reason="it is tagged for another prefix ('s08')")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import Config

LAB_TAG = "wildrydes:lab"
LAB_VALUE = "tumbling-windows"
PREFIX_TAG = "wildrydes:prefix"
# No valid prefix is "-" (a prefix starts with a letter or digit), so "no prefix" cannot
# be mistaken for a student's prefix; and some services refuse an empty tag value.
NO_PREFIX_VALUE = "-"


def prefix_value(prefix: str) -> str:
    """The ``wildrydes:prefix`` tag value of a prefix.

    Example
    -------
    >>> prefix_value(""), prefix_value("s07")
    ('-', 's07')
    """
    return prefix or NO_PREFIX_VALUE


def prefix_of_value(value: str) -> str:
    """The prefix a ``wildrydes:prefix`` tag value stands for (inverse of prefix_value).

    Example
    -------
    >>> prefix_of_value("-"), prefix_of_value("s07")
    ('', 's07')
    """
    return "" if value == NO_PREFIX_VALUE else value


def lab_tags(cfg: Config) -> dict[str, str]:
    """The lab's tags for ``cfg``'s prefix, as a plain mapping (Kinesis, Lambda, SQS, Logs).

    Example
    -------
    >>> lab_tags(Config())["wildrydes:prefix"]
    '-'
    """
    return {LAB_TAG: LAB_VALUE, PREFIX_TAG: prefix_value(cfg.prefix)}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags as the ``[{"Key": ..., "Value": ...}]`` list IAM and DynamoDB take.

    Example
    -------
    >>> tag_list({"a": "1"})
    [{'Key': 'a', 'Value': '1'}]
    """
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tag_dict(tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    """Tags in either shape (a mapping, or a Key/Value list) as a plain dict.

    Example
    -------
    >>> tag_dict([{"Key": "a", "Value": "1"}]), tag_dict({"b": "2"}), tag_dict(None)
    ({'a': '1'}, {'b': '2'}, {})
    """
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags}


@dataclass(frozen=True)
class Ownership:
    """Whether a resource carries this student's lab tags; if not, why (for the message)."""

    ours: bool
    reason: str = ""


def ownership(tags: Mapping[str, str], cfg: Config) -> Ownership:
    """Is a resource with ``tags`` this lab's, for ``cfg``'s prefix?

    Example
    -------
    >>> ownership({}, Config()).reason
    'it has no wildrydes:lab tag, so the lab did not make it'
    >>> ownership(lab_tags(Config(prefix="a")), Config(prefix="a")).ours
    True
    """
    if tags.get(LAB_TAG) != LAB_VALUE:
        return Ownership(False, f"it has no {LAB_TAG} tag, so the lab did not make it")
    have = tags.get(PREFIX_TAG)
    if have != prefix_value(cfg.prefix):
        shown = "no prefix" if have is None else repr(prefix_of_value(have) or "")
        return Ownership(False, f"it is tagged for another prefix ({shown})")
    return Ownership(True)


def missing_tags(tags: Mapping[str, str], cfg: Config) -> dict[str, str]:
    """The lab's tags that ``tags`` lacks (to repair a resource of ours, e.g. a stream).

    Example
    -------
    >>> missing_tags({"wildrydes:lab": "tumbling-windows"}, Config(prefix="a"))
    {'wildrydes:prefix': 'a'}
    """
    return {k: v for k, v in lab_tags(cfg).items() if tags.get(k) != v}
