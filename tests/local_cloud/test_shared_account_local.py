"""The tags and the tag-aware clean-up on the local cloud: the same calls as on AWS work."""

from __future__ import annotations

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from tests.unit.test_shared_account import all_tags
from wildrydes_helpers.cleanup import lab_resources, leftovers
from wildrydes_helpers.tags import lab_tags


def test_the_local_cloud_keeps_the_labs_tags_and_cleans_up_by_them(lab):
    s = prefixed(lab, "tagged-local")
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    assert wr.test_invoke(session=s).ok  # the function logs into the group made for it
    assert all_tags(s) == {kind: lab_tags(s.config) for kind in (
        "stream", "table", "role", "policy", "function", "queue", "log group")}
    assert {(x.kind, x.name, x.ours) for x in leftovers(session=s)} == {
        (kind, name, True) for kind, name in lab_resources(s.config)}
    done = wr.clean_up(session=s)
    for kind, name in lab_resources(s.config):
        assert f"{kind} {name}" in done.details["deleted"]
    assert list(leftovers(session=s)) == []


def test_04s_wait_for_the_logs_sees_every_record_of_the_run(lab, tmp_path):
    from wildrydes_helpers.waiting import wait_for_logs

    s = prefixed(lab, "logs-local")
    w = s.config.window_seconds
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    wr.run_producer(["Shadowfax", "Rocinante"], rate=4.0, count=int(2 * w * 4), seed=3,
                    session=s, ledger_path=tmp_path / "ledger.json")
    ledger = wr.read_ledger(tmp_path / "ledger.json")
    assert wr.wait_for_windows(ledger=ledger, timeout=4 * w + 20, poll_s=0.5,
                               progress=False, session=s).complete
    seen = wait_for_logs(ledger=ledger, timeout=4 * w + 20, poll_s=0.5, progress=False,
                         session=s)
    assert seen.complete, seen.message
    assert seen.in_finals == seen.in_batches == {n: u.records for n, u in
                                                 ledger.unicorns.items()}
    # 04's own check then holds: the Final: lines count every record sent.
    finals = wr.final_events(since=ledger.started_at, session=s)
    assert finals.groupby("name")["records"].sum().to_dict() == seen.expected
    wr.clean_up(session=s)
