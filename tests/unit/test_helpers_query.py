"""Reading the function's log lines needs no cloud: a line that is not the lab's is skipped.

Steps 4 and 5 against the local cloud are in tests/local_cloud/test_helpers_query.py.
"""

from __future__ import annotations

import pandas as pd

from wildrydes_helpers.monitor import finals_from_logs, invocations_from_logs, parse_line


def test_parsing_is_defensive():
    assert parse_line("Final: {not json") is None
    assert parse_line("just text") is None
    bad = pd.DataFrame([{"time": pd.Timestamp(0, tz="UTC"), "log_stream": "s",
                         "message": 'Final: {"window": 3, "state": []}'}])
    assert finals_from_logs(bad).empty
    assert invocations_from_logs(bad).empty


def test_batches_before_the_first_final_are_placed_in_their_window():
    # 04 can read the logs while the first window is still open: no Final: line yet.
    t = pd.Timestamp("2024-05-01T12:00:01.5Z")
    rows = [(t, "START RequestId: 0a1 Version: $LATEST"),
            (t, 'Adding: {"name": "Shadowfax", "distance": 30.0, "records": 1}'),
            (t, "REPORT RequestId: 0a1\tDuration: 1.00 ms")]
    logs = pd.DataFrame([{"time": at, "log_stream": "s", "message": m} for at, m in rows])
    calls = invocations_from_logs(logs, window_seconds=60)
    assert calls["kind"].tolist() == ["batch"]
    assert calls.at[0, "windowStart"] == pd.Timestamp("2024-05-01T12:00:00Z")
    assert calls.at[0, "records"] == 1
