"""Sequence numbers like AWS's: 56 decimal digits, increasing per shard, unique per stream.

The layout is pure (``local/sequence_numbers.py``); the moto test runs moto's Kinesis
in-process under ``mock_aws`` with only the sequence-number patch applied, and puts moto's
methods back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wildrydes_helpers.local import moto_backends
from wildrydes_helpers.local.sequence_numbers import (
    SEQUENCE_DIGITS,
    first_sequence_number,
    position_in_shard,
    sequence_number,
    shard_of,
)

REGION = "us-east-1"
# An example from AWS's documentation (Lambda developer guide, Kinesis event).
AWS_EXAMPLE = "49590338271490256608559692538361571095921575989136588898"


def test_the_layout_has_the_width_of_aws_numbers() -> None:
    assert len(AWS_EXAMPLE) == SEQUENCE_DIGITS
    for shard in (0, 1, 7, 999_999_999_999):
        for position in (1, 9, 10, 10**20):
            number = sequence_number(shard, position)
            assert len(str(number)) == SEQUENCE_DIGITS
            assert (shard_of(number), position_in_shard(number)) == (shard, position)
    assert first_sequence_number(2) == sequence_number(2, 1)
    with pytest.raises(ValueError):
        sequence_number(10**12, 1)
    with pytest.raises(ValueError):
        sequence_number(0, 10**42)


def test_string_order_is_numeric_order_in_the_layout() -> None:
    numbers = [sequence_number(s, p) for s in (0, 1, 10, 11) for p in (1, 2, 9, 10, 11, 100)]
    assert sorted(numbers) == sorted(numbers, key=str)
    assert [int(s) for s in sorted(map(str, numbers))] == sorted(numbers)


@pytest.fixture
def kinesis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's Kinesis in this process with the local cloud's sequence numbers."""
    import boto3
    from moto import mock_aws
    from moto.kinesis.models import Shard

    for name in ("put_record", "get_min_sequence_number", "get_max_sequence_number"):
        monkeypatch.setattr(Shard, name, vars(Shard)[name])  # put back when the test ends
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    moto_backends._aws_sequence_numbers()
    with mock_aws():
        yield boto3.client("kinesis", region_name=REGION)


def _read(kinesis: Any, stream: str, shard: str, kind: str,
          number: str | None = None) -> list[dict[str, Any]]:
    extra = {"StartingSequenceNumber": number} if number else {}
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType=kind, **extra)["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]


def test_moto_hands_out_56_digit_numbers_that_sort_as_strings(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="seq", ShardCount=3)
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName="seq")["Shards"]]
    empty = kinesis.describe_stream(StreamName="seq")["StreamDescription"]["Shards"][0]
    assert len(empty["SequenceNumberRange"]["StartingSequenceNumber"]) == SEQUENCE_DIGITS
    answers = [kinesis.put_record(StreamName="seq", Data=b"x", PartitionKey=f"key-{i}")
               for i in range(150)]
    per_shard: dict[str, list[str]] = {}
    for answer in answers:
        per_shard.setdefault(answer["ShardId"], []).append(answer["SequenceNumber"])
    assert len(per_shard) == 3, "the keys should spread over every shard"
    every = [n for numbers in per_shard.values() for n in numbers]
    assert all(len(n) == SEQUENCE_DIGITS and n.isdigit() for n in every)
    assert len(set(every)) == len(every), "a number was handed out twice"
    assert sorted(every) == sorted(every, key=int)
    for shard_id, numbers in per_shard.items():
        assert numbers == sorted(numbers) == sorted(numbers, key=int)
        assert len(numbers) > 10  # so "10" vs "9" would have shown
        assert {shard_of(n) for n in numbers} == {int(shard_id.split("-")[1])}
        stored = [r["SequenceNumber"] for r in _read(kinesis, "seq", shard_id, "TRIM_HORIZON")]
        assert stored == numbers
    batch = kinesis.put_records(StreamName="seq", Records=[
        {"Data": b"y", "PartitionKey": f"key-{i}"} for i in range(30)])["Records"]
    for result in batch:
        previous = per_shard[result["ShardId"]][-1]
        assert result["SequenceNumber"] > previous and int(result["SequenceNumber"]) > int(
            previous)
        per_shard[result["ShardId"]].append(result["SequenceNumber"])
    assert shards == sorted(per_shard)


def test_at_and_after_sequence_number_iterators_find_the_record(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="its", ShardCount=1)
    numbers = [kinesis.put_record(StreamName="its", Data=f"r{i}".encode(),
                                  PartitionKey="k")["SequenceNumber"] for i in range(12)]
    shard = "shardId-000000000000"
    for i in (0, 5, 9, 11):
        at = _read(kinesis, "its", shard, "AT_SEQUENCE_NUMBER", numbers[i])
        assert [r["SequenceNumber"] for r in at] == numbers[i:]
        assert at[0]["Data"] == f"r{i}".encode()
        after = _read(kinesis, "its", shard, "AFTER_SEQUENCE_NUMBER", numbers[i])
        assert [r["SequenceNumber"] for r in after] == numbers[i + 1:]
    latest = kinesis.get_shard_iterator(StreamName="its", ShardId=shard,
                                        ShardIteratorType="LATEST")["ShardIterator"]
    newer = kinesis.put_record(StreamName="its", Data=b"new", PartitionKey="k")
    got = kinesis.get_records(ShardIterator=latest)["Records"]
    assert [r["SequenceNumber"] for r in got] == [newer["SequenceNumber"]]
    assert int(newer["SequenceNumber"]) == int(numbers[-1]) + 1
