"""The whole lab on the local cloud: two unicorns on one shard for three 2 s windows.

The producer runs in-process with a seed; when the table holds every record, the
reconciliation (ledger, stream and table, window by window) must say "exact". Its summary
is printed (run with -s to see it).
"""

from __future__ import annotations

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed


def test_two_unicorns_three_windows_reconcile_exactly(lab, tmp_path):
    s = prefixed(lab, "e2e")
    w = s.config.window_seconds
    assert w <= 3, "conftest sets WILDRYDES_WINDOW_SECONDS=2 for a fast run"
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    rate = 4.0
    sent = wr.run_producer(["Shadowfax", "Rocinante"], rate=rate, count=int(3 * w * rate),
                           seed=42, session=s, ledger_path=tmp_path / "ledger.json")
    assert sent.failed == 0 and sent.sent == {"Shadowfax": 24, "Rocinante": 24}
    ledger = wr.read_ledger(tmp_path / "ledger.json")
    assert ledger.shard_ids == ["shardId-000000000000"]  # both unicorns on one shard

    done = wr.wait_for_windows(ledger=ledger, timeout=4 * w + 20, poll_s=0.5,
                               progress=False, session=s)
    assert done.complete, done.message
    table = wr.windows(session=s)
    result = wr.reconcile(ledger, table, session=s)
    print("\n" + result.summary() + "\n" + result.windows_report())
    assert result.exact, repr(result)
    assert set(table["name"]) == {"Shadowfax", "Rocinante"}
    assert table.groupby("name").size().min() >= 3  # three windows or more each

    finals = wr.final_events(session=s)
    assert set(finals["name"]) == {"Shadowfax", "Rocinante"}
    calls = wr.invocations(session=s)
    assert {"batch", "final"} <= set(calls["kind"])
    assert wr.clean_up(session=s).status == "deleted"
