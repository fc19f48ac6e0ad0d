"""reconcile's proof by window (compare: pure, no stream read, no sleep).

A run of two unicorns, four records a window for three 2 s windows, with the stream's records
and the table the function would write. Each tampering keeps every unicorn's totals within
the old check (counts equal, distance within 0.5 m per window), and must still be caught,
naming the window(s).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.kit import recon_kit as kit
from wildrydes_helpers.errors import LedgerError
from wildrydes_helpers.ledger import Ledger
from wildrydes_helpers.reconciliation import StreamRecord, compare, decode
from wildrydes_helpers.window_checks import iso

T0 = 1_700_000_000  # a window boundary for 2 s windows
W = 2
SHARD = "shardId-000000000000"
DISTANCES = {  # per window, in arrival order; each window sums to a whole number of metres
    "A": [[30.0, 29.0, 31.0, 30.0], [30.0, 30.5, 29.5, 30.0], [30.2, 29.8, 30.0, 30.0]],
    "B": [[29.9, 30.1, 30.0, 30.0], [29.6, 30.4, 30.0, 30.0], [30.3, 29.7, 30.0, 30.0]],
}


def _run() -> tuple[Ledger, list[StreamRecord], kit.Windows]:
    led = Ledger(stream="wildrydes", window_seconds=W, started_at=T0)
    stream: list[StreamRecord] = []
    windows: kit.Windows = {}
    seq = 0
    for k in range(3):
        for i in range(4):
            for name in ("A", "B"):
                seq += 1
                d = DISTANCES[name][k][i]
                arrival_ms = (T0 + k * W) * 1000 + i * 400 + 50 + (name == "B")
                data = json.dumps({"Name": name, "Distance": d}).encode()
                stream.append(StreamRecord(SHARD, str(seq), arrival_ms, data))
                led.add(name, d, str(seq), SHARD, arrival_ms / 1000 + 0.01)
                windows.setdefault((name, T0 + k * W), []).append(d)
    return led, stream, windows


def _check(table: kit.Rows, stream: list[StreamRecord] | None = None,
           ledger: Ledger | None = None):
    led, recs, _ = _run()
    return compare(ledger or led, recs if stream is None else stream, kit.frame(table, W))


def _kinds(result) -> dict[tuple[str, str], str]:
    return {(c.name, c.window): c.kind for c in result.window_differences}


def test_the_function_s_own_table_is_exact():
    led, stream, windows = _run()
    result = compare(led, stream, kit.frame(kit.rows(windows), W))
    assert result.exact, repr(result)
    assert result.summary().endswith(
        "verdict: exact (24 records, each in the stream once and counted once, in its own "
        "window)")
    assert result.summary().splitlines()[0] == (
        "A: 12 records sent, 12 in the stream, 12 in the table; distance 360.000 m sent; "
        "every window matches -> exact")
    assert "every window of every unicorn matches (6 windows)" in result.windows_report()


def test_summary_does_not_depend_on_row_or_record_order():
    led, stream, windows = _run()
    table = kit.frame(kit.rows(windows), W)
    assert compare(led, stream, table).summary() == compare(
        led, list(reversed(stream)), table.iloc[::-1]).summary()


def test_a_record_moved_to_the_next_window_is_named_as_a_move():
    led, _, windows = _run()
    table = kit.rows(kit.move_last(windows, "A", T0, W))
    assert kit.totals_match(led, table)  # the old check read "exact" here
    result = _check(table)
    assert not result.exact
    assert _kinds(result) == {("A", iso(T0)): "moved", ("A", iso(T0 + W)): "moved"}
    a = result.unicorns[0]
    assert a.problems() == [
        f"1 record (30.000 m) moved from window {iso(T0)} to {iso(T0 + W)}"]
    assert "verdict: NOT exact (2 windows differ)" in result.summary()
    assert "; 2 of 3 windows differ -> NOT exact: 1 record (30.000 m) moved" in result.summary()
    assert result.unicorns[1].verdict == "exact"
    assert result.windows_report().splitlines()[:2] == [
        f"A {iso(T0)}: expected 4 records, 120.000 m; table 3 records, 90 m -> moved: 1 record "
        f"(30.000 m) of this window counted in {iso(T0 + W)}",
        f"A {iso(T0 + W)}: expected 4 records, 120.000 m; table 5 records, 150 m -> moved: "
        f"1 record (30.000 m) of {iso(T0)} counted here"]


def test_a_record_moved_back_to_the_previous_window_is_a_move_too():
    led, _, windows = _run()
    moved = dict(windows)
    moved[("A", T0 + W)] = [*windows[("A", T0 + W)], windows[("A", T0 + 2 * W)][0]]
    moved[("A", T0 + 2 * W)] = windows[("A", T0 + 2 * W)][1:]
    result = _check(kit.rows(moved))
    assert f"1 record (30.200 m) moved from window {iso(T0 + 2 * W)} to {iso(T0 + W)}" in \
        result.unicorns[0].problems()


def test_one_record_lost_and_another_counted_twice_is_two_different_windows():
    led, _, windows = _run()
    table = kit.rows(kit.lose_and_double(windows, "A", T0, W, lost=1, doubled=0))
    assert kit.totals_match(led, table)  # 361 m against 360 m sent, 3 windows: "exact" before
    result = _check(table)
    assert not result.exact
    assert _kinds(result) == {("A", iso(T0)): "different", ("A", iso(T0 + W)): "different"}
    problems = result.unicorns[0].problems()
    assert problems == [
        f"window {iso(T0)} differs (3 records in the table, 4 expected; distance 91 m in the "
        "table, 120.000 m expected)",
        f"window {iso(T0 + W)} differs (5 records in the table, 4 expected; distance 150 m in "
        "the table, 120.000 m expected)"]


def test_a_window_missing_is_named():
    led, _, windows = _run()
    table = kit.window_into(kit.rows(windows), "B", gone=T0 + 2 * W, into=T0)
    assert kit.totals_match(led, table)
    result = _check(table)
    assert _kinds(result) == {("B", iso(T0)): "different", ("B", iso(T0 + 2 * W)): "missing"}
    assert f"window {iso(T0 + 2 * W)} missing (4 records, 120.000 m expected)" in \
        result.unicorns[1].problems()
    plain = _check({k: v for k, v in kit.rows(windows).items() if k != ("B", T0)})
    assert _kinds(plain) == {("B", iso(T0)): "missing"}


def test_an_extra_window_is_named():
    led, _, windows = _run()
    after = T0 + 3 * W  # the window after the run's last one
    table = kit.rows(kit.record_into_extra(windows, "A", T0 + W, after))
    assert kit.totals_match(led, table)
    result = _check(table)
    assert _kinds(result) == {("A", iso(T0 + W)): "different", ("A", iso(after)): "extra"}
    assert f"window {iso(after)} extra (1 record, 30 m in the table, nothing expected)" in \
        result.unicorns[0].problems()
    report = result.windows_report()
    assert f"A {iso(after)}: expected 0 records, 0.000 m; table 1 record, 30 m -> extra" in report


def test_a_distance_beyond_the_rounding_differs_and_within_it_does_not():
    led, _, windows = _run()
    table = kit.rows(windows)
    table[("B", T0)] = (4, 120.5)
    assert _check(table).exact  # 0.5 m: the function's rounding
    table[("B", T0)] = (4, 121.0)
    result = _check(table)
    assert _kinds(result) == {("B", iso(T0)): "different"}
    assert "distance 121 m in the table, 120.000 m expected" in result.unicorns[1].verdict


def test_ledger_records_absent_from_the_stream_are_named():
    led, stream, windows = _run()
    gone = [r for r in stream if r.sequence not in {"1", "3"}]  # A's first two records
    result = _check(kit.rows(windows), stream=gone)
    a = result.unicorns[0]
    assert a.not_in_stream == [f"{SHARD}/1", f"{SHARD}/3"]
    assert a.stream_records == 10 and not result.exact
    assert "verdict: NOT exact (1 window differs, 2 records not in the stream)" in \
        result.summary()
    assert f"A: record {SHARD}/1 is in the ledger but not in the stream" in \
        result.windows_report()


def test_a_record_twice_in_the_stream_s_view_is_not_exact():
    led, stream, windows = _run()
    result = _check(kit.rows(windows), stream=[*stream, stream[4]])
    assert not result.exact and result.window_differences == []
    assert result.unicorns[0].twice_in_stream == [f"{SHARD}/5"]
    assert "1 record read twice from the stream" in result.summary()


def test_a_sequence_number_holding_another_unicorn_s_record_is_not_found():
    led, stream, windows = _run()
    # A stream deleted and created again: sequence number 1 now holds B's record.
    swapped = [StreamRecord(r.shard_id, r.sequence, r.arrival_ms,
                            stream[1].data if r.sequence == "1" else r.data) for r in stream]
    assert _check(kit.rows(windows), stream=swapped).unicorns[0].not_in_stream == [f"{SHARD}/1"]


def test_other_runs_records_and_rows_are_ignored_and_counted():
    led, stream, windows = _run()
    old = json.dumps({"Name": "A", "Distance": 30.0}).encode()
    other = [StreamRecord(SHARD, "900", (T0 - 600) * 1000, old),           # long before
             StreamRecord(SHARD, "901", (T0 + 1) * 1000, b"not JSON"),      # unreadable
             StreamRecord(SHARD, "902", (T0 + 1) * 1000, json.dumps(
                 {"Name": "Zed", "Distance": 1.0}).encode())]               # not our unicorn
    table = {**kit.rows(windows), ("A", T0 - 600): (30, 900.0), ("Zed", T0): (1, 1.0)}
    result = _check(table, stream=[*other, *stream])
    assert result.exact, repr(result)
    assert result.ignored == 3
    assert result.summary().endswith("; 3 other records in the stream ignored (not in this ledger)")


def test_another_run_s_record_in_a_shared_window_counts_where_the_function_put_it():
    led, stream, windows = _run()
    earlier = StreamRecord(SHARD, "899", T0 * 1000 + 10,
                           json.dumps({"Name": "A", "Distance": 30.0}).encode())
    windows[("A", T0)].insert(0, 30.0)  # the function summed it into the run's first window
    result = _check(kit.rows(windows), stream=[earlier, *stream])
    assert result.exact, repr(result)
    assert result.unicorns[0].shared == 1 and result.ignored == 0
    assert "13 in the table (1 of them another run's" in result.summary()


def test_an_empty_ledger_is_not_exact():
    result = compare(Ledger(stream="s", window_seconds=W), [], pd.DataFrame())
    assert not result.exact and "nothing to reconcile" in result.summary()


def test_a_ledger_without_sequence_numbers_asks_for_a_new_run():
    led, stream, windows = _run()
    for u in led.unicorns.values():
        u.sequences = {}  # as a version 1 ledger reads
    with pytest.raises(LedgerError, match="Run the producer again"):
        compare(led, stream, kit.frame(kit.rows(windows), W))


@pytest.mark.parametrize("data", [b'{"Name": "a", "Distance": true}', b'{"Name": ""}',
                                  b'{"Name": "a", "Distance": -1}', b"[1]", b"\xff",
                                  b'{"Name": "a", "Distance": 1e10}'])
def test_decode_skips_what_the_function_skips(data):
    assert decode(data) is None
