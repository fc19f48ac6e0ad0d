"""04's real events on the local cloud: capture on, two unicorns, one window's events back.

The batch event and the final event come from the function's own log (``Event:`` lines),
so the same helpers work on AWS.
"""

from __future__ import annotations

import json
import time

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.events_capture import capture_events, captured_events, real_events
from wildrydes_helpers.function import function_configuration

WINDOW_KEYS = {"Records", "window", "state", "shardId", "eventSourceARN",
               "isFinalInvokeForWindow", "isWindowTerminatedEarly"}


def test_real_events_are_a_batch_and_its_windows_final_masked(lab, tmp_path):
    s = prefixed(lab, "cap")
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    assert capture_events(True, session=s).status == "updated"
    assert capture_events(True, session=s).status == "up to date"
    started = time.time() - 1
    wr.run_producer(["Shadowfax", "Rocinante"], rate=2.0, count=6, seed=42, session=s,
                    ledger_path=tmp_path / "ledger.json")
    ledger = wr.read_ledger(tmp_path / "ledger.json")
    done = wr.wait_for_windows(ledger=ledger, timeout=30, poll_s=0.5, progress=False, session=s)
    assert done.complete, done.message
    events = real_events(since=started, session=s)
    batch, final = events["batch"], events["final"]
    assert set(batch) == WINDOW_KEYS and set(final) == WINDOW_KEYS
    assert batch["isFinalInvokeForWindow"] is False and final["isFinalInvokeForWindow"] is True
    assert final["isWindowTerminatedEarly"] is False and final["Records"] == []
    assert batch["Records"] and batch["window"] == final["window"]
    assert batch["shardId"] == final["shardId"] == "shardId-000000000000"
    assert set(final["state"]["unicorns"]) == {"Shadowfax", "Rocinante"}
    assert s.account_id not in json.dumps(events) and "********" in json.dumps(events)
    json.dumps(events)  # JSON-able as they are
    # Off again: the environment goes back to the lab's, and nothing more is logged.
    assert capture_events(False, session=s).status == "updated"
    env = function_configuration(s, s.config.function_name)["Environment"]["Variables"]
    assert "LOG_EVENTS" not in env
    assert wr.create_function(session=s).status == "up to date"
    quiet = time.time()
    wr.run_producer(["Shadowfax"], rate=4.0, count=2, seed=1, session=s,
                    ledger_path=tmp_path / "ledger2.json")
    more = wr.wait_for_windows(ledger=wr.read_ledger(tmp_path / "ledger2.json"), timeout=30,
                               poll_s=0.5, progress=False, session=s)
    assert more.complete
    assert captured_events(since=quiet, session=s) == []
    wr.clean_up(session=s)
