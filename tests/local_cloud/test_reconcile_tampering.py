"""The proof by window on a real run: the producer and the function on the local cloud (2 s
windows, as test_end_to_end.py), then the table tampered with in four ways.

Before tampering the reconciliation is exact; after each tampering it is not, and it names the
window(s). Each tampered row is one the function could have written (count, whole metres),
and each tampering keeps the unicorn's totals within the old per-unicorn check.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import wildrydes_helpers as wr
from tests.kit import recon_kit as kit
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.errors import StreamGoneError
from wildrydes_helpers.ledger import Ledger
from wildrydes_helpers.reconciliation import compare, decode, reconcile
from wildrydes_helpers.session import LabSession
from wildrydes_helpers.stream_records import StreamRecord, read_stream, window_of
from wildrydes_helpers.window_checks import iso

NAME = "Shadowfax"


def stream_windows(ledger: Ledger, records: list[StreamRecord]) -> kit.Windows:
    """(name, window start) -> distances in arrival order, of the ledger's records."""
    ours = {(shard, seq) for u in ledger.unicorns.values()
            for shard, seqs in u.sequences.items() for seq in seqs}
    out: kit.Windows = {}
    for rec in sorted(records, key=lambda r: (r.arrival_ms, len(r.sequence), r.sequence)):
        if (rec.shard_id, rec.sequence) in ours:
            found = decode(rec.data)
            assert found is not None
            out.setdefault((found[0], window_of(rec.arrival_ms, ledger.window_seconds)),
                           []).append(found[1])
    return out


def table_rows(s: LabSession) -> kit.Rows:
    table = wr.windows(session=s)
    return {(str(n), int(t.timestamp())): (int(r), float(d)) for n, t, r, d in zip(
        table["name"], table["windowStart"], table["records"], table["distance"], strict=True)}


def tamperings(ledger: Ledger, windows: kit.Windows, records: list[StreamRecord],
               ) -> dict[str, tuple[kit.Rows, dict[str, str]]]:
    """label -> (tampered rows, the kinds the verdict must name per window)."""
    w = ledger.window_seconds
    starts = sorted(s for n, s in windows if n == NAME)
    assert len(starts) >= 3 and starts == list(range(starts[0], starts[-1] + 1, w))
    first, second, last = starts[0], starts[1], starts[-1]
    good = kit.rows(windows)
    out: dict[str, tuple[kit.Rows, dict[str, str]]] = {
        "a record moved to the next window": (
            kit.rows(kit.move_last(windows, NAME, second, w)),
            {iso(second): "moved", iso(second + w): "moved"}),
        "a window missing": (
            kit.window_into(good, NAME, gone=last, into=first),
            {iso(first): "different", iso(last): "missing"}),
        "an extra window": (
            kit.rows(kit.record_into_extra(windows, NAME, second, last + w)),
            {iso(second): "different", iso(last + w): "extra"}),
    }
    # One record lost, another of the next window counted twice: a pair whose numbers the old
    # check accepts, and that no move explains (the records' distances differ enough).
    expect = {iso(second): "different", iso(second + w): "different"}
    for lost in range(len(windows[(NAME, second)])):
        for doubled in range(len(windows[(NAME, second + w)])):
            rows = kit.rows(kit.lose_and_double(windows, NAME, second, w, lost, doubled))
            kinds = {c.window: c.kind for c in compare(
                ledger, records, kit.frame(rows, w)).window_differences}
            if kit.totals_match(ledger, rows) and kinds == expect:
                out["one record lost, another counted twice"] = (rows, expect)
                break
        else:
            continue
        break
    assert len(out) == 4, "no lost/doubled pair of this run passes the old check"
    return out


def write_rows(s: LabSession, before: kit.Rows, after: kit.Rows) -> None:
    """Make the table hold ``after`` instead of ``before``: only the rows that change."""
    table = s.boto.resource("dynamodb", region_name=s.config.region,
                            endpoint_url=s.endpoint).Table(s.config.table_name)
    w = s.config.window_seconds
    for key in before.keys() - after.keys():
        table.delete_item(Key={"name": key[0], "windowStart": iso(key[1])})
    for key, (records, distance) in after.items():
        if before.get(key) != (records, distance):
            table.put_item(Item={
                "name": key[0], "windowStart": iso(key[1]), "windowEnd": iso(key[1] + w),
                "distance": Decimal(repr(distance)), "records": Decimal(records),
                "shardId": "shardId-000000000000"})


@pytest.fixture(scope="module")
def real_run(lab, tmp_path_factory) -> Iterator[dict[str, Any]]:
    s = prefixed(lab, "tamper")
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    w = s.config.window_seconds
    path = tmp_path_factory.mktemp("tamper") / "ledger.json"
    sent = wr.run_producer(["Shadowfax", "Rocinante"], rate=4.0, count=int(3 * w * 4),
                           seed=42, session=s, ledger_path=path)
    assert sent.failed == 0
    ledger = wr.read_ledger(path)
    done = wr.wait_for_windows(ledger=ledger, timeout=4 * w + 20, poll_s=0.5, progress=False,
                               session=s)
    assert done.complete, done.message
    records = read_stream(ledger.stream, session=s).records
    yield {"s": s, "ledger": ledger, "records": records,
           "windows": stream_windows(ledger, records), "rows": table_rows(s)}
    assert wr.clean_up(session=s).status == "deleted"


def test_the_real_run_is_exact_and_is_what_the_function_writes(real_run):
    s, ledger = real_run["s"], real_run["ledger"]
    assert real_run["rows"] == kit.rows(real_run["windows"])
    result = reconcile(ledger, wr.windows(session=s), session=s)
    print("\n" + repr(result))
    assert result.exact, repr(result)
    assert {c.operation for c in result.calls} >= {"ListShards", "GetShardIterator",
                                                   "GetRecords"}


def test_each_tampering_is_caught_and_names_its_windows(real_run):
    s, ledger, good = real_run["s"], real_run["ledger"], real_run["rows"]
    cases = tamperings(ledger, real_run["windows"], real_run["records"])
    for label, (rows, expect) in cases.items():
        assert kit.totals_match(ledger, rows), label  # the old check would read "exact"
        write_rows(s, good, rows)
        try:
            result = reconcile(ledger, wr.windows(session=s), session=s)
            print(f"\n--- {label}\n{result!r}")
            assert not result.exact, label
            found = {c.window: c.kind for c in result.window_differences}
            assert found == expect, (label, repr(result))
            assert all(c.name == NAME for c in result.window_differences)
            summary = result.summary()
            assert "verdict: NOT exact (2 windows differ)" in summary, label
            assert all(window in summary for window in expect), label
        finally:
            write_rows(s, rows, good)
    assert reconcile(ledger, wr.windows(session=s), session=s).exact  # restored


def test_a_deleted_stream_says_what_to_do(real_run):
    s = real_run["s"]
    gone = Ledger(stream="tamper-deleted-stream", window_seconds=s.config.window_seconds)
    with pytest.raises(StreamGoneError, match="06_clean_up deletes it.*00_introduction"):
        reconcile(gone, wr.windows(session=s), session=s)
