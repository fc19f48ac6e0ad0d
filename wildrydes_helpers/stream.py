"""The Kinesis stream the producer writes to (set up in 00_introduction).

Example
-------
>>> from wildrydes_helpers.stream import create_stream
>>> create_stream()          # doctest: +SKIP
00_introduction: created. Created stream wildrydes with 1 shard.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .errors import IN_USE_CODE, PrerequisiteError, WildRydesError, error_code
from .lab_step import lab_step
from .notebook_names import NB_STREAM
from .owned import refuse_unless_ours, stream_tags
from .session import LabSession
from .step_result import StepResult, mask_arn
from .tags import LAB_TAG, lab_tags, missing_tags
from .waiting import poll_until

STREAM_TIMEOUT_S = 120.0
# Where CreateStream drops its tags (moto), a stream another kernel of the same student has
# just made is untagged for a moment, until that kernel adds them: wait that long for them.
STREAM_TAGS_SETTLE_S = 5.0


def _summary(lab: LabSession, name: str) -> dict[str, Any] | None:
    kinesis = lab.client("kinesis")
    try:
        return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    except kinesis.exceptions.ResourceNotFoundException:
        return None


def _wait_active(lab: LabSession, name: str) -> dict[str, Any]:
    def active() -> dict[str, Any] | None:
        summary = _summary(lab, name)
        return summary if summary and summary["StreamStatus"] == "ACTIVE" else None

    summary = poll_until(active, STREAM_TIMEOUT_S, what=f"stream {name} to become ACTIVE")
    return summary


def _tag_stream(lab: LabSession, name: str) -> None:
    """Add the lab's tags the stream lacks.

    CreateStream takes ``Tags`` on AWS, but moto drops them, so the tags are read back and
    any missing one is added with AddTagsToStream: both backends end up tagged, and on AWS
    (where CreateStream already tagged it) no further call is made.
    """
    missing = missing_tags(stream_tags(lab, name), lab.config)
    if missing:
        lab.client("kinesis").add_tags_to_stream(StreamName=name, Tags=missing)


def _settled_tags(lab: LabSession, name: str) -> dict[str, str]:
    """The stream's tags, waiting briefly while it has no lab tag yet (see above)."""
    found: dict[str, str] = {}

    def tagged() -> bool:
        found.clear()
        found.update(stream_tags(lab, name))
        return LAB_TAG in found

    with contextlib.suppress(WildRydesError):  # really untagged: the caller says whose
        poll_until(tagged, STREAM_TAGS_SETTLE_S, what=f"the tags of stream {name}")
    return dict(found)


def list_stream_names(lab: LabSession) -> list[str]:
    """Every stream name of the account and region, over all ListStreams pages.

    ``ExclusiveStartStreamName`` pages the same on AWS and on moto (moto answers
    ``HasMoreStreams`` but no ``NextToken``, so boto3's paginator would stop after one page).

    Example
    -------
    >>> list_stream_names(get_session())   # doctest: +SKIP
    ['wildrydes']
    """
    kinesis = lab.client("kinesis")
    names: list[str] = []
    params: dict[str, Any] = {"Limit": 100}
    while True:
        page = kinesis.list_streams(**params)
        names += page.get("StreamNames", [])
        if not page.get("HasMoreStreams") or not page.get("StreamNames"):
            return names
        params["ExclusiveStartStreamName"] = names[-1]


@lab_step(NB_STREAM)
def create_stream(shard_count: int = 1, *, session: LabSession | None = None) -> StepResult:
    """Create the lab's Kinesis stream (or reuse it) and wait until it is ACTIVE.

    Parameters
    ----------
    shard_count : int
        Shards of a new stream (1 is enough for a class; an existing stream keeps its own).

    A stream of that name without the lab's tags for this prefix (another student's, or
    one made by hand) raises ResourceMismatchError and is left as it is.

    Example
    -------
    >>> create_stream(shard_count=1)   # doctest: +SKIP
    00_introduction: created. Created stream wildrydes with 1 shard.
    """
    if not isinstance(shard_count, int) or shard_count < 1:
        raise WildRydesError(f"shard_count={shard_count!r}: use a whole number from 1.")
    assert session is not None
    name = session.config.stream_name
    existing = _summary(session, name)
    if existing is not None:
        if existing["StreamStatus"] == "DELETING":
            raise WildRydesError(
                f"Stream {name} is being deleted. Wait a minute, then run this step again.")
        refuse_unless_ours("Kinesis stream", name, _settled_tags(session, name), session.config)
        summary = _wait_active(session, name)
        shards = summary.get("OpenShardCount", shard_count)
        return StepResult(NB_STREAM, "already exists",
                          f"Stream {name} already exists with {shards} shard(s); reusing it.",
                          {"stream": name, "shards": shards, "arn": mask_arn(summary["StreamARN"])})
    try:
        session.client("kinesis").create_stream(StreamName=name, ShardCount=shard_count,
                                                 Tags=lab_tags(session.config))
    except Exception as exc:
        if error_code(exc) != IN_USE_CODE:  # created meanwhile by another kernel?
            raise
        _wait_active(session, name)
        refuse_unless_ours("Kinesis stream", name, _settled_tags(session, name), session.config)
    summary = _wait_active(session, name)
    _tag_stream(session, name)
    return StepResult(NB_STREAM, "created",
                      f"Created stream {name} with {shard_count} shard(s).",
                      {"stream": name, "shards": shard_count,
                       "arn": mask_arn(summary["StreamARN"])})


def _missing_stream(name: str) -> PrerequisiteError:
    return PrerequisiteError(
        f"The Kinesis stream {name} does not exist. Run {NB_STREAM} (create_stream()) first.")


@lab_step(NB_STREAM)
def stream_arn(*, session: LabSession | None = None, name: str | None = None) -> str:
    """The ARN of the lab's stream (or of ``name``); PrerequisiteError if it does not exist.

    Example
    -------
    >>> stream_arn()   # doctest: +SKIP
    'arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes'
    """
    assert session is not None
    name = name or session.config.stream_name
    summary = _summary(session, name)
    if summary is None:
        raise _missing_stream(name)
    return str(summary["StreamARN"])


@lab_step(NB_STREAM)
def shard_ids(*, session: LabSession | None = None, name: str | None = None) -> list[str]:
    """The ids of the stream's shards, sorted.

    Example
    -------
    >>> shard_ids()   # doctest: +SKIP
    ['shardId-000000000000']
    """
    assert session is not None
    name = name or session.config.stream_name
    kinesis = session.client("kinesis")
    try:
        pages = kinesis.get_paginator("list_shards").paginate(StreamName=name)
        return sorted(s["ShardId"] for page in pages for s in page.get("Shards", []))
    except kinesis.exceptions.ResourceNotFoundException:
        raise _missing_stream(name) from None
