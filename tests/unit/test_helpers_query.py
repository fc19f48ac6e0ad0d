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
