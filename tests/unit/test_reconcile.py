"""reconcile(): exact per unicorn, within rounding on distance, approximate per window."""

from __future__ import annotations

import pandas as pd

from wildrydes_helpers.ledger import Ledger
from wildrydes_helpers.reconciliation import reconcile

T0 = 1_700_000_000.0  # a window boundary for 2 s and 60 s windows... 2 s here


def _ledger() -> Ledger:
    led = Ledger(stream="wildrydes", window_seconds=2, started_at=T0)
    for i in range(4):  # two records in each of two windows, per unicorn
        for name, dist in (("A", 30.2), ("B", 29.9)):
            led.add(name, dist, str(i), "shardId-000000000000", T0 + i + 0.1)
    return led


def _table(rows: list[tuple[str, float, float, int]]) -> pd.DataFrame:
    return pd.DataFrame([{
        "name": n, "windowStart": pd.Timestamp(T0 + off, unit="s", tz="UTC"),
        "windowEnd": pd.Timestamp(T0 + off + 2, unit="s", tz="UTC"),
        "distance": d, "records": r, "shardId": "shardId-000000000000"}
        for n, off, d, r in rows])


GOOD = [("A", 0, 60.0, 2), ("A", 2, 60.0, 2), ("B", 0, 60.0, 2), ("B", 2, 60.0, 2)]


def test_matching_table_is_exact():
    rec = reconcile(_ledger(), _table(GOOD))
    assert rec.exact
    assert rec.summary().endswith("verdict: exact (8 records, each counted once)")
    assert "every window agrees" in rec.windows_report()


def test_summary_is_deterministic():
    assert reconcile(_ledger(), _table(GOOD)).summary() == reconcile(
        _ledger(), _table(list(reversed(GOOD)))).summary()


def test_missing_records_are_named_with_their_window():
    rows = [("A", 0, 60.0, 2), ("A", 2, 30.0, 1), ("B", 0, 60.0, 2), ("B", 2, 60.0, 2)]
    rec = reconcile(_ledger(), _table(rows))
    assert not rec.exact
    assert "A: 4 records sent, 3 in the table" in rec.summary()
    assert "1 record(s) missing" in rec.summary()
    assert [(d.name, d.ledger_records, d.table_records) for d in rec.window_differences] == [
        ("A", 2, 1)]


def test_extra_records_are_reported():
    rows = [("A", 0, 90.0, 3), ("A", 2, 60.0, 2), ("B", 0, 60.0, 2), ("B", 2, 60.0, 2)]
    assert "1 record(s) extra" in reconcile(_ledger(), _table(rows)).summary()


def test_distance_beyond_rounding_is_not_exact():
    rows = [("A", 0, 62.0, 2), ("A", 2, 60.0, 2), ("B", 0, 60.0, 2), ("B", 2, 60.0, 2)]
    rec = reconcile(_ledger(), _table(rows))
    assert not rec.exact and "distance differs" in rec.summary()


def test_a_record_in_the_neighbouring_window_is_still_exact_in_total():
    rows = [("A", 0, 30.0, 1), ("A", 2, 91.0, 3), ("B", 0, 60.0, 2), ("B", 2, 60.0, 2)]
    rec = reconcile(_ledger(), _table(rows))
    assert rec.exact
    assert len(rec.window_differences) == 2 and "approximate" in rec.windows_report()


def test_rows_of_other_runs_and_unicorns_are_ignored():
    rows = GOOD + [("A", -600, 900.0, 30), ("Zed", 0, 60.0, 2)]
    assert reconcile(_ledger(), _table(rows)).exact


def test_an_empty_ledger_is_not_exact():
    rec = reconcile(Ledger(stream="s", window_seconds=2), _table(GOOD))
    assert not rec.exact and "nothing to reconcile" in rec.summary()
