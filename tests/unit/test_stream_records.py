"""Reading the stream back (stream_records.py) against a fake Kinesis client: no AWS, no sleep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.exceptions
import pytest

from wildrydes_helpers.errors import StreamGoneError, StreamReadError
from wildrydes_helpers.stream_records import list_shards, read_shard, window_of


class _NotFound(botocore.exceptions.ClientError):
    def __init__(self) -> None:
        super().__init__({"Error": {"Code": "ResourceNotFoundException"}}, "ListShards")


class FakeKinesis:
    """Pages of records per shard; ``behind`` holds MillisBehindLatest per page."""

    class exceptions:  # noqa: N801 - boto3's spelling
        ResourceNotFoundException = _NotFound

    def __init__(self, pages: list[list[int]], behind: list[int] | None = None,
                 shards: int = 1, expire_at: int | None = None, gone: bool = False) -> None:
        self.pages, self.behind = pages, behind or [0] * len(pages)
        self.shards, self.expire_at, self.gone = shards, expire_at, gone
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def list_shards(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("ListShards", kw))
        if self.gone:
            raise _NotFound()
        index = 0 if "StreamName" in kw else int(kw["NextToken"])
        page: dict[str, Any] = {"Shards": [{"ShardId": f"shardId-{index:012d}"}]}
        if index + 1 < self.shards:
            page["NextToken"] = str(index + 1)
        return page

    def get_shard_iterator(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("GetShardIterator", kw))
        after = kw.get("StartingSequenceNumber")
        start = 0 if after is None else next(
            i + 1 for i, page in enumerate(self.pages) if str(page[-1]) == after)
        return {"ShardIterator": str(start)}

    def get_records(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("GetRecords", kw))
        index = int(kw["ShardIterator"])
        if index == self.expire_at:
            self.expire_at = None
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")
        seqs = self.pages[index] if index < len(self.pages) else []
        records = [{"SequenceNumber": str(q), "Data": b"{}",
                    "ApproximateArrivalTimestamp": datetime.fromtimestamp(q, UTC)}
                   for q in seqs]
        behind = self.behind[index] if index < len(self.behind) else 0
        return {"Records": records, "NextShardIterator": str(index + 1),
                "MillisBehindLatest": behind}


def test_pages_are_followed_until_an_empty_page_that_is_not_behind():
    fake = FakeKinesis([[1, 2], [], [3]], behind=[5, 3, 0])  # an empty page while behind
    found = read_shard(fake, "s", "shardId-000000000000")
    assert [r.sequence for r in found] == ["1", "2", "3"]
    assert found[0].arrival_ms == 1000
    assert fake.calls[0][1]["ShardIteratorType"] == "TRIM_HORIZON"
    assert [c for c, _ in fake.calls].count("GetRecords") == 4  # the last one: empty, caught up


def test_pacing_sleeps_between_calls_of_one_shard():
    slept: list[float] = []
    read_shard(FakeKinesis([[1], [2]]), "s", "x", pace_s=0.2, sleep=slept.append)
    assert slept == [0.2, 0.2]


def test_an_expired_iterator_goes_on_after_the_last_record_read():
    fake = FakeKinesis([[1, 2], [3]], expire_at=1)
    assert [r.sequence for r in read_shard(fake, "s", "x")] == ["1", "2", "3"]
    again = [kw for c, kw in fake.calls if c == "GetShardIterator"][1]
    assert again == {"StreamName": "s", "ShardId": "x",
                     "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": "2"}


def test_list_shards_follows_next_token_without_the_stream_name():
    fake = FakeKinesis([], shards=3)
    assert list_shards(fake, "s") == [f"shardId-{i:012d}" for i in range(3)]
    assert [kw for _, kw in fake.calls] == [{"StreamName": "s"}, {"NextToken": "1"},
                                            {"NextToken": "2"}]


def test_a_deleted_stream_says_which_notebooks_to_run():
    with pytest.raises(StreamGoneError, match="does not exist .*06_clean_up deletes it"):
        list_shards(FakeKinesis([], gone=True), "wildrydes")


def test_a_shard_that_never_ends_is_reported(monkeypatch):
    monkeypatch.setattr("wildrydes_helpers.stream_records.MAX_PAGES_PER_SHARD", 3)
    with pytest.raises(StreamReadError, match="Stop the producer"):
        read_shard(FakeKinesis([[1], [2], [3], [4]], behind=[9, 9, 9, 9]), "s", "x")


def test_window_of_is_floor_of_the_arrival_millisecond():
    assert window_of(1_700_000_001_999, 2) == 1_700_000_000
    assert window_of(1_700_000_002_000, 2) == 1_700_000_002
