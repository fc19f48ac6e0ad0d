"""docs/semantics.md rules, checked on the pure window logic (esm/processor.py), fake clock.

No local cloud, no threads, no sleeping: a fake clock moves time and a fake function answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from wildrydes_helpers.local.esm.events import (
    ShardContext,
    StreamRecord,
    Window,
    format_utc,
    stream_record,
    window_for,
)
from wildrydes_helpers.local.esm.failures import failure_record
from wildrydes_helpers.local.esm.processor import (
    CONDITION_RETRIES,
    RESULT_PROBLEM,
    Discard,
    InvocationResult,
    Invoke,
    ShardProcessor,
    Wait,
    interpret,
)
from wildrydes_helpers.local.esm.settings import (
    PAYLOAD_LIMIT_BYTES,
    STATE_LIMIT_BYTES,
    InvalidMappingError,
    Settings,
    validate_mapping,
)

CTX = ShardContext("shardId-000000000000",
                   "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes", "us-east-1",
                   "arn:aws:iam::123456789012:role/unicorn-aggregation-role")
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()  # 12:00:00Z, a multiple of 60


def ok_state(event: dict[str, Any]) -> InvocationResult:
    """A well-behaved window function: counts records and lists their data."""
    state = dict(event.get("state") or {})
    state["seen"] = state.get("seen", []) + [r["kinesis"]["data"] for r in event["Records"]]
    return InvocationResult(json.dumps({"state": state}).encode())


@dataclass
class Harness:
    """A processor, a fake clock and a fake function, with a log of every event."""

    settings: Settings
    function: Callable[[dict[str, Any]], InvocationResult] = ok_state
    now: float = T0
    events: list[dict[str, Any]] = field(default_factory=list)
    discards: list[Discard] = field(default_factory=list)
    seq: int = 0
    ctx: ShardContext = CTX

    def __post_init__(self) -> None:
        self.p = ShardProcessor(self.settings, self.ctx)

    def put(self, at: float, data: str = "e30=", key: str = "k") -> StreamRecord:
        self.seq += 1
        return stream_record(self.seq, key, data, at)

    def read(self, records: list[StreamRecord], caught_up: bool = True) -> None:
        self.p.add_records(records, read_at=self.now, caught_up=caught_up)

    def run(self, max_steps: int = 1000) -> Wait:
        """Act until the processor waits; time moves only through backoffs it asks for."""
        for _ in range(max_steps):
            action = self.p.next_action(self.now)
            if isinstance(action, Invoke):
                event = json.loads(action.payload)
                self.events.append(event)
                self.now += 0.01
                self.p.complete(self.function(event), self.now)
            elif isinstance(action, Discard):
                self.discards.append(action)
            elif action.until is not None and action.until > self.now and \
                    self.p._not_before > self.now:
                self.now = action.until  # a retry backoff: let the fake clock run
            else:
                return action
        raise AssertionError("the processor never settled")

    def finals(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("isFinalInvokeForWindow")]

    def batches(self) -> list[dict[str, Any]]:
        return [e for e in self.events if not e.get("isFinalInvokeForWindow")]


def window_settings(**kw: Any) -> Settings:
    return Settings(**{"window_seconds": 60, "batch_size": 100, **kw})


# --------------------------------------------------------------------------- the event


def test_rule_01_window_event_has_exactly_the_listed_top_level_keys():
    h = Harness(window_settings())
    h.read([h.put(T0 + 1)])
    h.run()
    event = h.events[0]
    assert set(event) == {"Records", "window", "state", "shardId", "eventSourceARN",
                          "isFinalInvokeForWindow", "isWindowTerminatedEarly"}
    assert event["shardId"] == CTX.shard_id
    assert event["eventSourceARN"] == CTX.stream_arn
    assert event["isFinalInvokeForWindow"] is False
    assert event["isWindowTerminatedEarly"] is False
    assert event["state"] == {}


def test_rule_02_record_shape():
    h = Harness(window_settings())
    record = stream_record(42, "Shadowfax", "eyJOYW1lIjoiU2hhZG93ZmF4In0=", T0 + 1.23456)
    h.read([record])
    h.run()
    got = h.events[0]["Records"][0]
    assert got == {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "Shadowfax",
                    "sequenceNumber": "42", "data": "eyJOYW1lIjoiU2hhZG93ZmF4In0=",
                    "approximateArrivalTimestamp": pytest.approx(T0 + 1.235, abs=1e-6)},
        "eventSource": "aws:kinesis", "eventVersion": "1.0",
        "eventID": "shardId-000000000000:42", "eventName": "aws:kinesis:record",
        "invokeIdentityArn": CTX.role_arn, "awsRegion": "us-east-1",
        "eventSourceARN": CTX.stream_arn,
    }
    stamp = got["kinesis"]["approximateArrivalTimestamp"]
    assert isinstance(stamp, float)
    assert round(stamp * 1000) == round((T0 + 1.235) * 1000)  # millisecond precision


def test_rule_02_partition_keys_with_quotes_are_valid_json():
    record = stream_record(1, 'a"b\\c\u00e9', "AA==", T0)
    parsed = json.loads(CTX.record_json(record))
    assert parsed["kinesis"]["partitionKey"] == 'a"b\\c\u00e9'
    assert len(CTX.record_json(record)) <= CTX.record_size(record)


def test_rule_03_window_bounds_format_and_length():
    for seconds in (1, 7, 60, 900):
        h = Harness(window_settings(window_seconds=seconds))
        h.read([h.put(T0 + 3.5)])
        h.run()
        window = h.events[0]["window"]
        start = datetime.strptime(window["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        end = datetime.strptime(window["end"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert (end - start).total_seconds() == seconds
        assert window["start"].endswith("Z") and "." not in window["start"]


def test_rule_04_no_window_gives_plain_records_event():
    h = Harness(Settings(window_seconds=0), function=lambda e: InvocationResult(b"null"))
    h.read([h.put(T0 + 1), h.put(T0 + 61)])
    h.run()
    assert len(h.events) == 1  # no window: one batch across the minute, no final
    assert set(h.events[0]) == {"Records"}
    assert len(h.events[0]["Records"]) == 2


# --------------------------------------------------------------------------- windows


def test_rule_05_boundary_examples():
    t_1200 = T0
    assert window_for(round((t_1200 + 59.999) * 1000), 60) == Window(int(t_1200),
                                                                       int(t_1200) + 60)
    assert window_for(round((t_1200 + 60.0) * 1000), 60) == Window(int(t_1200) + 60,
                                                                      int(t_1200) + 120)
    assert format_utc(t_1200) == "2024-05-01T12:00:00Z"
    assert window_for(0, 60) == Window(0, 60)  # aligned to the Unix epoch
    assert window_for(7_000, 7) == Window(7, 14)


def test_rule_05_records_split_at_the_boundary():
    h = Harness(window_settings())
    h.read([h.put(T0 + 59.999, "QQ=="), h.put(T0 + 60.0, "Qg==")])
    h.now = T0 + 61
    h.run()
    batches = h.batches()
    assert [e["window"]["start"] for e in batches] == ["2024-05-01T12:00:00Z",
                                                     "2024-05-01T12:01:00Z"]
    assert [len(e["Records"]) for e in batches] == [1, 1]


def test_rule_05_window_follows_arrival_time_not_payload():
    h = Harness(window_settings())
    payload = '{"StatusTime": "2024-05-01 11:00:00.000"}'  # an hour earlier, ignored
    h.read([stream_record(1, "k", payload, T0 + 5)])
    h.run()
    assert h.events[0]["window"]["start"] == "2024-05-01T12:00:00Z"


def test_rule_05_arrival_rounded_to_the_millisecond_decides_the_window():
    record = stream_record(1, "k", "", T0 + 59.9996)  # shows as 12:01:00.000
    assert record.arrival_ms == round((T0 + 60) * 1000)
    assert window_for(record.arrival_ms, 60).start == int(T0) + 60


def test_rule_06_batches_respect_batch_size_and_order():
    h = Harness(window_settings(batch_size=3))
    h.read([h.put(T0 + i / 10) for i in range(8)])
    h.run()
    sizes = [len(e["Records"]) for e in h.batches()]
    assert sizes == [3, 3, 2]
    seqs = [int(r["kinesis"]["sequenceNumber"]) for e in h.batches() for r in e["Records"]]
    assert seqs == sorted(seqs) == list(range(1, 9))


def test_rule_06_batch_never_spans_two_windows():
    h = Harness(window_settings(window_seconds=10, batch_size=100))
    h.read([h.put(T0 + t) for t in (1, 2, 9.9, 10.0, 15, 25)])
    h.now = T0 + 40
    h.run()
    for event in h.batches():
        starts = {window_for(round(r["kinesis"]["approximateArrivalTimestamp"] * 1000),
                               10).start for r in event["Records"]}
        assert len(starts) == 1
        assert format_utc(starts.pop()) == event["window"]["start"]
    assert [len(e["Records"]) for e in h.batches()] == [3, 2, 1]


def test_rule_06_payload_stays_under_6_mb():
    h = Harness(window_settings(batch_size=10_000))
    big = "A" * 1_000_000  # about 1 MB of base64 per record
    h.read([h.put(T0 + 1, big) for _ in range(14)])
    h.run()
    assert all(len(json.dumps(e)) <= PAYLOAD_LIMIT_BYTES for e in h.events)
    assert sum(len(e["Records"]) for e in h.batches()) == 14
    assert len(h.batches()) >= 3


def test_rule_06_windows_and_state_are_per_shard():
    a = Harness(window_settings())
    b = Harness(window_settings(), ctx=ShardContext("shardId-000000000001", CTX.stream_arn,
                                                    CTX.region, CTX.role_arn))
    a.read([a.put(T0 + 1, "QQ==")])
    a.run()
    b.read([b.put(T0 + 2, "Qg==")])
    b.run()
    assert b.events[0]["state"] == {}
    assert b.events[0]["shardId"] == "shardId-000000000001"
    assert a.p.state_json != b.p.state_json == '{"seen":["Qg=="]}'


# --------------------------------------------------------------------------- state


def test_rule_07_state_is_handed_on_within_a_window():
    h = Harness(window_settings(batch_size=1))
    h.read([h.put(T0 + 1, "QQ=="), h.put(T0 + 2, "Qg=="), h.put(T0 + 3, "Qw==")])
    h.now = T0 + 60
    h.read([])
    h.run()
    states = [e["state"] for e in h.events]
    assert states == [{}, {"seen": ["QQ=="]}, {"seen": ["QQ==", "Qg=="]},
                      {"seen": ["QQ==", "Qg==", "Qw=="]}]
    assert h.events[-1]["isFinalInvokeForWindow"] is True


def test_rule_07_next_window_starts_from_empty_state():
    h = Harness(window_settings())
    h.read([h.put(T0 + 1), h.put(T0 + 61)])
    h.now = T0 + 62
    h.run()
    second = [e for e in h.batches() if e["window"]["start"].endswith("12:01:00Z")]
    assert second[0]["state"] == {}


@pytest.mark.parametrize("answer", [
    InvocationResult(b"null"),
    InvocationResult(b"[1, 2]"),
    InvocationResult(b'{"count": 3}'),
    InvocationResult(b'{"state": 5}'),
    InvocationResult(b"not json"),
    InvocationResult(b'{"errorMessage": "boom"}', function_error="Unhandled"),
    InvocationResult(b'{"errorMessage": "Task timed out after 3.00 seconds"}',
                     function_error="Unhandled"),
], ids=["null", "list", "no-state", "state-not-object", "not-json", "exception", "timeout"])
def test_rule_08_bad_response_counts_as_function_error(answer):
    outcome = interpret(answer, tumbling=True)
    assert outcome.ok is False
    h = Harness(window_settings(max_retry_attempts=0), function=lambda e: answer)
    h.read([h.put(T0 + 1)])
    h.run()
    assert [d.condition for d in h.discards] == [CONDITION_RETRIES]
    assert h.p.last_result == RESULT_PROBLEM


def test_rule_09_oversized_state_ends_the_window_early():
    def function(event: dict[str, Any]) -> InvocationResult:
        state = dict(event["state"])
        state["n"] = state.get("n", 0) + len(event["Records"])
        if state["n"] == 2 and not event["isWindowTerminatedEarly"]:
            state["pad"] = "x" * (STATE_LIMIT_BYTES + 1)
        return InvocationResult(json.dumps({"state": state}).encode())

    h = Harness(window_settings(batch_size=1), function=function)
    h.read([h.put(T0 + t) for t in (1, 2, 3)])
    h.now = T0 + 61
    h.read([])
    h.run()
    flags = [(e["isWindowTerminatedEarly"], e["state"].get("n"), e["window"]["start"])
             for e in h.events]
    start = "2024-05-01T12:00:00Z"
    assert flags == [(False, None, start), (False, 1, start), (True, None, start),
                     (True, 1, start)]
    assert h.events[2]["state"] == {}
    assert len(h.finals()) == 1 and h.finals()[0]["isWindowTerminatedEarly"] is True


def test_rule_09_state_at_the_limit_is_kept():
    pad = "x" * (STATE_LIMIT_BYTES - len('{"pad":""}'))

    def function(event: dict[str, Any]) -> InvocationResult:
        return InvocationResult(json.dumps({"state": {"pad": pad}}).encode())

    h = Harness(window_settings(batch_size=1), function=function)
    h.read([h.put(T0 + 1), h.put(T0 + 2)])
    h.run()
    assert h.events[1]["isWindowTerminatedEarly"] is False
    assert h.events[1]["state"] == {"pad": pad}


# --------------------------------------------------------------------------- finals


def test_rule_10_one_final_per_window_with_no_records_and_none_for_empty_windows():
    h = Harness(window_settings(window_seconds=10))
    h.read([h.put(T0 + 1), h.put(T0 + 2), h.put(T0 + 35)])  # windows :00 and :30 only
    h.now = T0 + 50
    h.read([])
    h.run()
    assert [e["Records"] for e in h.finals()] == [[], []]
    assert [e["window"]["start"] for e in h.finals()] == ["2024-05-01T12:00:00Z",
                                                        "2024-05-01T12:00:30Z"]
    assert h.finals()[0]["state"] == {"seen": ["e30=", "e30="]}
    h.now += 100
    h.read([])
    assert isinstance(h.run(), Wait) and len(h.finals()) == 2


def test_rule_11_final_comes_before_any_record_of_a_later_window():
    h = Harness(window_settings())
    h.read([h.put(T0 + 1, "QQ=="), h.put(T0 + 70, "Qg==")], caught_up=False)
    h.now = T0 + 2  # the clock has not passed the first window's end
    h.run()
    kinds = [("final" if e["isFinalInvokeForWindow"] else "batch", e["window"]["start"][-9:])
             for e in h.events]
    assert kinds == [("batch", "12:00:00Z"), ("final", "12:00:00Z"), ("batch", "12:01:00Z")]


def test_rule_11_final_is_timer_triggered_once_a_read_passes_window_end():
    h = Harness(window_settings())
    h.read([h.put(T0 + 5)])
    wait = h.run()
    assert h.finals() == []
    assert wait.until == T0 + 60  # wake up at the window's end
    h.now = T0 + 59.999
    assert not h.p.read_wanted(h.now)
    h.read([])
    h.run()
    assert h.finals() == []  # a read before the end proves nothing
    h.now = T0 + 60.001
    assert h.p.read_wanted(h.now)
    h.read([], caught_up=False)  # an incomplete read proves nothing either
    h.run()
    assert h.finals() == []
    h.read([])
    h.run()
    assert len(h.finals()) == 1


def test_rule_12_failing_final_blocks_the_shard_and_is_retried_until_it_succeeds():
    tries = {"final": 0}

    def function(event: dict[str, Any]) -> InvocationResult:
        if event["isFinalInvokeForWindow"]:
            tries["final"] += 1
            if tries["final"] <= 5:
                return InvocationResult(b'{"errorMessage":"x"}', function_error="Unhandled")
        return ok_state(event)

    h = Harness(window_settings(max_retry_attempts=0), function=function)
    h.read([h.put(T0 + 1, "QQ=="), h.put(T0 + 61, "Qg==")])
    h.now = T0 + 62
    checkpoint_before = h.p.checkpoint
    # Step by step: while the final fails, nothing of the next window goes out.
    for _ in range(40):
        action = h.p.next_action(h.now)
        if isinstance(action, Wait):
            h.now = action.until if action.until is not None else h.now + 1
            continue
        event = json.loads(action.payload)
        h.events.append(event)
        if tries["final"] < 5:
            assert h.p.checkpoint == checkpoint_before
            assert event["window"]["start"].endswith("12:00:00Z")
        h.p.complete(function(event), h.now)
        if event["window"]["start"].endswith("12:01:00Z"):
            break
    assert tries["final"] == 6
    assert h.discards == []  # a final invocation is never given up
    finals = h.finals()
    assert all(e["state"] == {"seen": ["QQ=="]} for e in finals)
    assert h.events[-1]["Records"][0]["kinesis"]["data"] == "Qg=="
    assert h.p.checkpoint == 1


# --------------------------------------------------------------------------- errors


def _fails_on(bad: set[str]) -> Callable[[dict[str, Any]], InvocationResult]:
    def function(event: dict[str, Any]) -> InvocationResult:
        if any(r["kinesis"]["data"] in bad for r in event["Records"]):
            return InvocationResult(b'{"errorMessage":"bad"}', function_error="Unhandled")
        return ok_state(event)

    return function


def test_rule_13_retries_exhausted_discards_and_the_shard_goes_on():
    h = Harness(window_settings(max_retry_attempts=2, batch_size=2),
                function=_fails_on({"UE9JU09O"}))
    h.read([h.put(T0 + 1, "UE9JU09O"), h.put(T0 + 2, "QQ=="), h.put(T0 + 3, "Qg==")])
    h.now = T0 + 4
    h.run()
    tries = [e for e in h.batches() if e["Records"][0]["kinesis"]["data"] == "UE9JU09O"]
    assert len(tries) == 3  # N + 1
    assert len(h.discards) == 1
    discard = h.discards[0]
    assert discard.condition == "RetryAttemptsExhausted"
    assert discard.invoke_count == 3
    assert [r.sequence_number for r in discard.records] == [1, 2]
    h.now = T0 + 61
    h.read([])
    h.run()
    assert h.finals()[0]["state"] == {"seen": ["Qg=="]}  # the discarded records never count
    message = failure_record(discard, CTX, "arn:aws:lambda:us-east-1:1:function:f", "rid",
                               h.now)
    assert message["requestContext"] == {
        "requestId": "rid", "functionArn": "arn:aws:lambda:us-east-1:1:function:f",
        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3}
    assert message["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                          "functionError": "Unhandled"}
    assert message["version"] == "1.0"
    info = message["KinesisBatchInfo"]
    assert info == {
        "shardId": CTX.shard_id, "startSequenceNumber": "1", "endSequenceNumber": "2",
        "approximateArrivalOfFirstRecord": "2024-05-01T12:00:01.000Z",
        "approximateArrivalOfLastRecord": "2024-05-01T12:00:02.000Z",
        "batchSize": 2, "streamArn": CTX.stream_arn}
    assert "Records" not in json.dumps(message) and "UE9JU09O" not in json.dumps(message)


def test_rule_13_minus_one_retries_until_the_records_expire():
    h = Harness(window_settings(max_retry_attempts=-1), function=_fails_on({"QQ=="}))
    h.read([h.put(T0 + 1, "QQ==")])
    for _ in range(30):  # thirty failed tries, and still no discard
        action = h.p.next_action(h.now)
        if isinstance(action, Wait):
            h.now = action.until
            continue
        assert isinstance(action, Invoke)
        h.p.complete(_fails_on({"QQ=="})(json.loads(action.payload)), h.now)
    assert h.discards == [] and h.p.pending_count == 1
    h.p.settings.max_record_age_s = 60
    h.now = T0 + 120
    assert isinstance(h.p.next_action(h.now), Discard)


def test_rule_13_backoff_doubles_up_to_the_maximum():
    settings = window_settings(retry_base_delay_s=0.1, retry_max_delay_s=0.5)
    assert _retry_delays(settings, 6) == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]


def _retry_delays(settings: Settings, tries: int) -> list[float]:
    """The waits a processor asks for after each of ``tries`` failed tries in a row."""
    h = Harness(settings, function=_fails_on({"QQ=="}))
    h.read([h.put(T0 + 1, "QQ==")])
    delays = []
    for _ in range(tries):
        action = h.p.next_action(h.now)
        assert isinstance(action, Invoke)
        h.p.complete(_fails_on({"QQ=="})(json.loads(action.payload)), h.now)
        wait = h.p.next_action(h.now)
        assert isinstance(wait, Wait)
        delays.append(round(wait.until - h.now, 6))
        h.now = wait.until
    return delays


def test_rule_23_spacing_is_the_same_for_windows_of_60_s_and_more_and_without_a_window():
    expected = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    for window in (0, 60, 900):
        assert _retry_delays(Settings(window_seconds=window), 6) == expected, window


def test_rule_23_a_short_window_shrinks_the_spacing_in_proportion():
    # A 3 s window is a twentieth of 60 s: every wait is a twentieth of a 60 s window's.
    assert _retry_delays(Settings(window_seconds=3), 6) == [0.005, 0.01, 0.02, 0.04, 0.05,
                                                            0.05]
    assert _retry_delays(Settings(window_seconds=30), 2) == [0.05, 0.1]


def test_rule_23_a_long_run_of_failures_keeps_the_longest_wait():
    # Retries without limit (-1): past 1,024 failures in a row, 2 ** n no longer fits a float.
    delays = _retry_delays(Settings(window_seconds=3, max_retry_attempts=-1), 1100)
    assert delays[-1] == 0.05 and max(delays) == 0.05


def test_rule_14_bisect_isolates_a_poison_record_without_using_up_retries():
    poison = "UE9JU09O"
    h = Harness(window_settings(max_retry_attempts=1, bisect=True, batch_size=8),
                function=_fails_on({poison}))
    datas = ["QQ==", "Qg==", "Qw==", "RA==", "RQ==", poison, "Rw==", "SA=="]
    h.read([h.put(T0 + 1 + i / 10, d) for i, d in enumerate(datas)])
    h.now = T0 + 61
    h.read([])
    h.run()
    assert [[r.sequence_number for r in d.records] for d in h.discards] == [[6]]
    assert h.discards[0].condition == "RetryAttemptsExhausted"
    single = [e for e in h.batches() if [r["kinesis"]["data"] for r in e["Records"]] == [poison]]
    assert len(single) == 2  # one record is not split: it is tried N + 1 times
    sizes = [len(e["Records"]) for e in h.batches()]
    assert sizes[:3] == [8, 4, 4]  # 8 fails -> halves; [1..4] ok; [5..8] fails -> halves
    final_seen = h.finals()[0]["state"]["seen"]
    assert sorted(final_seen) == sorted(d for d in datas if d != poison)


def test_rule_14_without_bisect_the_whole_batch_is_discarded():
    h = Harness(window_settings(max_retry_attempts=0, bisect=False, batch_size=4),
                function=_fails_on({"UE9JU09O"}))
    h.read([h.put(T0 + 1, d) for d in ("QQ==", "UE9JU09O", "Qg==")])
    h.run()
    assert [len(d.records) for d in h.discards] == [3]


def test_rule_15_too_old_records_are_discarded_before_invoking():
    h = Harness(window_settings(max_record_age_s=60))
    h.now = T0 + 100
    h.read([h.put(T0 + 1, "QQ=="), h.put(T0 + 30, "Qg=="), h.put(T0 + 95, "Qw==")])
    h.run()
    assert [(d.condition, [r.sequence_number for r in d.records], d.invoke_count)
            for d in h.discards] == [("RecordAgeExceeded", [1, 2], 0)]
    delivered = [r["kinesis"]["data"] for e in h.batches() for r in e["Records"]]
    assert delivered == ["Qw=="]
    message = failure_record(h.discards[0], CTX, "arn:f", "rid", h.now)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0


def test_rule_16_after_a_failure_records_are_delivered_again_in_order():
    calls = {"n": 0}

    def flaky(event: dict[str, Any]) -> InvocationResult:
        calls["n"] += 1
        if calls["n"] == 2:
            return InvocationResult(b"{}", function_error="Unhandled")
        return ok_state(event)

    h = Harness(window_settings(batch_size=2), function=flaky)
    h.read([h.put(T0 + i) for i in range(1, 6)])
    h.run()
    seqs = [[int(r["kinesis"]["sequenceNumber"]) for r in e["Records"]] for e in h.batches()]
    assert seqs == [[1, 2], [3, 4], [3, 4], [5]]


def test_report_batch_item_failures_retries_from_the_lowest_failed_record():
    def function(event: dict[str, Any]) -> InvocationResult:
        seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
        body = json.loads(ok_state(event).payload)
        if seqs[0] == "1":
            body["batchItemFailures"] = [{"itemIdentifier": "4"}, {"itemIdentifier": "3"}]
        return InvocationResult(json.dumps(body).encode())

    h = Harness(window_settings(batch_size=5, report_item_failures=True), function=function)
    h.read([h.put(T0 + i, f"R{i}==") for i in range(1, 6)])
    h.run()
    seqs = [[int(r["kinesis"]["sequenceNumber"]) for r in e["Records"]] for e in h.batches()]
    assert seqs == [[1, 2, 3, 4, 5], [3, 4, 5]]
    assert h.batches()[1]["state"]["seen"] == ["R1==", "R2==", "R3==", "R4==", "R5=="]


def _tries_with_failures_reported(failed: str, batch: int) -> list[list[int]]:
    """Sequence numbers of each try; the first try reports ``failed`` as its failed record."""
    tries: list[list[int]] = []

    def function(event: dict[str, Any]) -> InvocationResult:
        tries.append([int(r["kinesis"]["sequenceNumber"]) for r in event["Records"]])
        body = json.loads(ok_state(event).payload)
        if len(tries) == 1:
            body["batchItemFailures"] = [{"itemIdentifier": failed}]
        return InvocationResult(json.dumps(body).encode())

    h = Harness(window_settings(batch_size=batch, report_item_failures=True, bisect=True),
                function=function)
    h.read([h.put(T0 + i, f"R{i}==") for i in range(1, batch + 1)])
    h.run()
    return tries


def test_rule_21_a_partial_failure_with_bisect_retries_only_the_remaining_records():
    # AWS: "the batch is bisected at the returned sequence number and Lambda retries only
    # the remaining records": the rest is tried whole, not halved again.
    tries = _tries_with_failures_reported("3", batch=8)
    assert tries[:2] == [[1, 2, 3, 4, 5, 6, 7, 8], [3, 4, 5, 6, 7, 8]]


def test_rule_21_a_failed_first_record_with_bisect_retries_the_whole_batch():
    tries = _tries_with_failures_reported("1", batch=4)
    assert tries[:2] == [[1, 2, 3, 4], [1, 2, 3, 4]]


def test_report_batch_item_failures_unknown_identifier_fails_the_whole_batch():
    answer = InvocationResult(b'{"batchItemFailures": [{"itemIdentifier": "99"}]}')
    assert not interpret(answer, tumbling=False, report_item_failures=True,
                           sequence_numbers=[1, 2]).ok
    empty = InvocationResult(b'{"batchItemFailures": []}')
    assert interpret(empty, tumbling=False, report_item_failures=True,
                       sequence_numbers=[1]).failed_from is None


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("field_name,bad", [
    ("BatchSize", 0), ("BatchSize", 10_001),
    ("MaximumBatchingWindowInSeconds", -1), ("MaximumBatchingWindowInSeconds", 301),
    ("TumblingWindowInSeconds", -1), ("TumblingWindowInSeconds", 901),
    ("ParallelizationFactor", 0), ("ParallelizationFactor", 11),
    ("MaximumRetryAttempts", -2), ("MaximumRetryAttempts", 10_001),
    ("MaximumRecordAgeInSeconds", -2), ("MaximumRecordAgeInSeconds", 59),
    ("MaximumRecordAgeInSeconds", 604_801), ("BatchSize", "ten"), ("BatchSize", 2.5),
])
def test_rule_17_out_of_range_values_are_rejected(field_name, bad):
    with pytest.raises(InvalidMappingError, match=field_name):
        validate_mapping({"StartingPosition": "LATEST", field_name: bad})


def test_rule_17_defaults_and_limits_accepted():
    cfg = validate_mapping({"StartingPosition": "TRIM_HORIZON"})
    assert (cfg["BatchSize"], cfg["MaximumBatchingWindowInSeconds"],
            cfg["ParallelizationFactor"], cfg["MaximumRetryAttempts"],
            cfg["BisectBatchOnFunctionError"], cfg["TumblingWindowInSeconds"],
            cfg["Enabled"]) == (100, 0, 1, -1, False, 0, True)
    edge = validate_mapping({"StartingPosition": "LATEST", "BatchSize": 10_000,
                             "MaximumBatchingWindowInSeconds": 300,
                             "TumblingWindowInSeconds": 900, "MaximumRetryAttempts": 10_000,
                             "MaximumRecordAgeInSeconds": 60})
    assert edge["BatchSize"] == 10_000 and edge["MaximumRecordAgeInSeconds"] == 60


def test_rule_17_starting_position_rules():
    with pytest.raises(InvalidMappingError, match="Value null at 'startingPosition'"):
        validate_mapping({})
    with pytest.raises(InvalidMappingError, match="Member must satisfy enum value set"):
        validate_mapping({"StartingPosition": "EARLIEST"})
    with pytest.raises(InvalidMappingError, match="StartingPositionTimestamp"):
        validate_mapping({"StartingPosition": "AT_TIMESTAMP"})
    with pytest.raises(InvalidMappingError, match="only valid with"):
        validate_mapping({"StartingPosition": "LATEST", "StartingPositionTimestamp": 5})
    cfg = validate_mapping({"StartingPosition": "AT_TIMESTAMP",
                            "StartingPositionTimestamp": 1700000000})
    assert cfg["StartingPositionTimestamp"] == 1700000000.0


def test_rule_17_parallelization_with_tumbling_window_is_rejected():
    with pytest.raises(InvalidMappingError, match="ParallelizationFactor"):
        validate_mapping({"StartingPosition": "LATEST", "TumblingWindowInSeconds": 60,
                          "ParallelizationFactor": 2})
    assert validate_mapping({"StartingPosition": "LATEST",
                             "ParallelizationFactor": 2})["ParallelizationFactor"] == 2
    current = validate_mapping({"StartingPosition": "LATEST", "TumblingWindowInSeconds": 60})
    with pytest.raises(InvalidMappingError, match="ParallelizationFactor"):
        validate_mapping({"ParallelizationFactor": 3}, current)


def test_rule_17_update_keeps_settings_and_rejects_fixed_fields():
    current = validate_mapping({"StartingPosition": "LATEST", "BatchSize": 7})
    updated = validate_mapping({"Enabled": False, "MaximumRetryAttempts": 2}, current)
    assert (updated["BatchSize"], updated["Enabled"], updated["MaximumRetryAttempts"]) == \
        (7, False, 2)
    with pytest.raises(InvalidMappingError, match="cannot be changed"):
        validate_mapping({"StartingPosition": "TRIM_HORIZON"}, current)


def test_rule_17_destination_and_response_types():
    good = validate_mapping({"StartingPosition": "LATEST", "DestinationConfig": {
        "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}})
    assert good["DestinationConfig"]["OnFailure"]["Destination"].endswith(":q")
    for bad in ("arn:aws:s3:::bucket", "not-an-arn"):
        with pytest.raises(InvalidMappingError, match="SQS queue or SNS topic"):
            validate_mapping({"StartingPosition": "LATEST",
                              "DestinationConfig": {"OnFailure": {"Destination": bad}}})
    with pytest.raises(InvalidMappingError, match="FunctionResponseTypes"):
        validate_mapping({"StartingPosition": "LATEST", "FunctionResponseTypes": ["Other"]})
    with pytest.raises(InvalidMappingError, match="FilterCriteria"):
        validate_mapping({"StartingPosition": "LATEST",
                          "FilterCriteria": {"Filters": [{"Pattern": "{}"}]}})


def test_rule_18_checkpoint_advances_when_a_window_closes():
    h = Harness(window_settings(batch_size=1))
    h.read([h.put(T0 + 1), h.put(T0 + 2)])
    h.run()
    assert h.p.position == 2 and h.p.checkpoint is None  # window still open
    h.now = T0 + 60
    h.read([])
    h.run()
    assert h.p.checkpoint == 2
    plain = Harness(Settings(batch_size=1), function=lambda e: InvocationResult(b"null"))
    plain.read([plain.put(T0 + 1), plain.put(T0 + 2)])
    plain.run()
    assert plain.p.checkpoint == 2  # no window: after each batch


def test_rule_19_caught_up_processor_waits_for_the_window_end_only():
    h = Harness(window_settings())
    assert h.run() == Wait(None)  # nothing read yet: only a poll can bring work
    h.read([h.put(T0 + 1)])
    assert h.run() == Wait(T0 + 60)


def test_batching_window_waits_for_a_fuller_batch():
    h = Harness(Settings(batch_size=3, batching_window_s=5),
                function=lambda e: InvocationResult(b"null"))
    h.now = T0 + 1
    h.read([h.put(T0 + 1)])
    assert h.p.next_action(h.now) == Wait(T0 + 6)
    h.read([h.put(T0 + 2), h.put(T0 + 3)])
    assert isinstance(h.p.next_action(h.now), Invoke)


def test_service_error_is_retried_without_using_up_retries():
    h = Harness(window_settings(max_retry_attempts=0))
    h.read([h.put(T0 + 1)])
    for _ in range(5):
        action = h.p.next_action(h.now)
        if isinstance(action, Wait):
            h.now = action.until
            action = h.p.next_action(h.now)
        assert isinstance(action, Invoke)
        h.p.not_delivered(h.now)
    assert h.discards == [] and h.p.pending_count == 1
