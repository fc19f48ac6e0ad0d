"""The producer: reproducible values, pacing, retries, its ledger, the CLI and the process."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from wildrydes_helpers.cli import main as cli
from wildrydes_helpers.config import Config
from wildrydes_helpers.errors import LedgerError, WildRydesError
from wildrydes_helpers.ledger import read_ledger
from wildrydes_helpers.producer import (
    UnicornSimulator,
    run_producer,
)

CFG = Config(window_seconds=2)


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _throttle(op: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
        op)


class FakeKinesis:
    """Accepts records into a list; can throttle calls and fail single entries."""

    def __init__(self, throttle_calls: int = 0, fail_entries: int = 0,
                 always_fail: bool = False) -> None:
        self.records: list[dict] = []
        self.throttle_calls, self.fail_entries, self.always_fail = (
            throttle_calls, fail_entries, always_fail)
        self.calls: list[str] = []

    def describe_stream_summary(self, StreamName: str) -> dict:
        return {"StreamDescriptionSummary": {"StreamName": StreamName}}

    def _accept(self, data: bytes, key: str) -> dict:
        self.records.append({"data": json.loads(data), "key": key})
        return {"SequenceNumber": str(1000 + len(self.records)),
                "ShardId": "shardId-000000000000"}

    def put_record(self, StreamName: str, Data: bytes, PartitionKey: str) -> dict:
        self.calls.append("put_record")
        if self.always_fail or self.throttle_calls > 0:
            self.throttle_calls -= 1
            raise _throttle("PutRecord")
        return self._accept(Data, PartitionKey)

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        self.calls.append("put_records")
        if self.throttle_calls > 0:
            self.throttle_calls -= 1
            raise _throttle("PutRecords")
        out, failed = [], 0
        for entry in Records:
            if self.fail_entries > 0:
                self.fail_entries -= 1
                failed += 1
                out.append({"ErrorCode": "ProvisionedThroughputExceededException",
                            "ErrorMessage": "slow down"})
            else:
                out.append(self._accept(entry["Data"], entry["PartitionKey"]))
        return {"FailedRecordCount": failed, "Records": out}


def _run(kinesis: FakeKinesis, tmp_path, **kw) -> tuple:
    clock = FakeClock()
    kw.setdefault("names", ["Shadowfax"])
    kw.setdefault("seed", 7)
    result = run_producer(kinesis=kinesis, config=CFG, clock=clock, sleep=clock.sleep,
                          ledger_path=tmp_path / "ledger.json", **kw)
    return result, clock


def test_the_same_seed_gives_the_same_records(tmp_path):
    a, b = FakeKinesis(), FakeKinesis()
    _run(a, tmp_path, names=["Shadowfax", "Rocinante"], count=20)
    _run(b, tmp_path, names=["Shadowfax", "Rocinante"], count=20)
    assert a.records == b.records  # StatusTime too: the fake clocks agree
    c = FakeKinesis()
    _run(c, tmp_path, names=["Shadowfax", "Rocinante"], count=20, seed=8)
    assert [r["data"]["Distance"] for r in c.records] != [r["data"]["Distance"] for r in
                                                         a.records]


def test_values_depend_on_seed_name_and_index_only():
    alone = UnicornSimulator("Shadowfax", 3)
    first = [alone.next_values() for _ in range(5)]
    UnicornSimulator("Rocinante", 3).next_values()  # another unicorn in between
    again = UnicornSimulator("Shadowfax", 3)
    assert [again.next_values() for _ in range(5)] == first


def test_records_have_the_workshop_fields(tmp_path):
    k = FakeKinesis()
    _run(k, tmp_path, count=50)
    recs = [r["data"] for r in k.records]
    assert list(recs[0]) == ["Name", "StatusTime", "Latitude", "Longitude", "Distance",
                             "MagicPoints", "HealthPoints"]
    assert all(r["key"] == "Shadowfax" for r in k.records)
    assert all(29.0 <= r["Distance"] <= 31.0 and isinstance(r["Distance"], float)
               for r in recs)
    hp = [150] + [r["HealthPoints"] for r in recs]
    assert all(abs(b - a) <= 1 and isinstance(b, int) for a, b in zip(hp, hp[1:], strict=False))
    assert recs[0]["StatusTime"] == "2023-11-14 22:13:20.000"  # UTC, milliseconds


def test_rate_and_count_hold(tmp_path):
    k = FakeKinesis()
    result, clock = _run(k, tmp_path, names=["A", "B"], rate=2.0, count=10)
    assert result.sent == {"A": 10, "B": 10}
    assert len(k.records) == 20
    # 10 ticks at 2 a second: the last one goes out 4.5 s after the first.
    assert result.elapsed_s == pytest.approx(4.5)
    assert set(k.calls) == {"put_record"}  # 4 records/s: PutRecord


def test_duration_bounds_the_run(tmp_path):
    result, _ = _run(FakeKinesis(), tmp_path, rate=4.0, duration=3.0)
    assert result.sent == {"Shadowfax": 12}


def test_fast_producers_use_putrecords_and_retry_failed_entries(tmp_path):
    k = FakeKinesis(throttle_calls=2, fail_entries=3)
    result, clock = _run(k, tmp_path, names=["A", "B", "C"], rate=4.0, count=5)
    assert "put_records" in k.calls and "put_record" not in k.calls
    assert result.sent == {"A": 5, "B": 5, "C": 5} and result.failed == 0
    assert result.retries >= 3
    assert sorted(r["data"]["Name"] for r in k.records) == sorted(["A", "B", "C"] * 5)


def test_throttled_putrecord_is_retried_with_backoff(tmp_path):
    k = FakeKinesis(throttle_calls=3)
    result, clock = _run(k, tmp_path, count=2)
    assert result.sent == {"Shadowfax": 2} and result.failed == 0 and result.retries == 3
    backoffs = [s for s in clock.slept if s in (0.05, 0.1, 0.2)]
    assert backoffs == [0.05, 0.1, 0.2]


def test_a_record_given_up_on_is_counted_and_reported(tmp_path):
    k = FakeKinesis(always_fail=True)
    result, _ = _run(k, tmp_path, count=2, max_attempts=3)
    assert result.failed == 2 and result.sent == {"Shadowfax": 0}
    assert "2 record(s) given up" in repr(result)
    assert read_ledger(tmp_path / "ledger.json").failed == 2


def test_the_ledger_books_what_kinesis_accepted(tmp_path):
    k = FakeKinesis()
    result, _ = _run(k, tmp_path, names=["A", "B"], count=6)
    led = read_ledger(result.ledger_path)
    assert led.finished and led.seed == 7 and led.shard_ids == ["shardId-000000000000"]
    a = led.unicorns["A"]
    sent = [r["data"] for r in k.records if r["data"]["Name"] == "A"]
    assert a.records == 6
    assert a.distance == pytest.approx(sum(r["Distance"] for r in sent))
    assert (a.first_sequence, a.last_sequence) == ("1001", "1011")
    assert sum(a.windows.values()) == 6 and len(a.windows) == 3  # 6 s over 2 s windows
    assert sum(a.window_distance.values()) == pytest.approx(a.distance)


def test_a_corrupt_ledger_says_which_file_and_what_to_do(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text('{"stream": "wildrydes", "unicorns": [1, 2')
    with pytest.raises(LedgerError) as err:
        read_ledger(path)
    assert str(path) in str(err.value) and "run the producer again" in str(err.value)
    with pytest.raises(LedgerError, match="no producer ledger"):
        read_ledger(tmp_path / "missing.json")


@pytest.mark.parametrize("kw, text", [
    ({"rate": 0}, "rate"), ({"rate": -1.0}, "rate"), ({"count": 0}, "count"),
    ({"count": 5, "duration": 5.0}, "not both"), ({"names": []}, "name"),
    ({"names": ["A", "A"]}, "once"),
])
def test_bad_values_are_refused(kw, text, tmp_path):
    with pytest.raises(WildRydesError, match=text):
        _run(FakeKinesis(), tmp_path, **kw)


@pytest.mark.parametrize("argv, text", [
    (["produce", "--rate", "0"], "--rate"), (["produce", "--rate", "-2"], "--rate"),
    (["produce", "--count", "0"], "--count"), (["produce", "--count", "x"], "--count"),
    (["produce", "--count", "3", "--duration", "4"], "not allowed"),
])
def test_cli_bad_values_exit_2_with_one_line(argv, text, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert text in err and len(err.splitlines()) == 1


def test_align_starts_the_first_record_on_a_window_boundary(tmp_path):
    kinesis = FakeKinesis()
    clock = FakeClock(start=1_700_000_000.5)  # half a second into a 2 s window
    sent_at: list[float] = []
    original = kinesis._accept

    def accept(data: bytes, key: str) -> dict:
        sent_at.append(clock())
        return original(data, key)

    kinesis._accept = accept  # type: ignore[method-assign]
    run_producer(["Shadowfax"], count=3, seed=1, kinesis=kinesis, config=CFG, clock=clock,
                 sleep=clock.sleep, ledger_path=tmp_path / "ledger.json", align=True)
    assert sent_at[0] == 1_700_000_002.0  # the next multiple of the 2 s window
    assert sent_at == [1_700_000_002.0, 1_700_000_003.0, 1_700_000_004.0]


def test_next_window_start_is_the_following_boundary():
    from wildrydes_helpers.producer import next_window_start

    assert next_window_start(120.0, 60) == 180.0  # on a boundary: the next one
    assert next_window_start(179.999, 60) == 180.0
