"""The state the function handed back to Lambda, call by call, read from its logs (pure).

Each batch call logs, per unicorn, ``Adding: {name, distance, records}`` (this batch) and
``Returning state: {name, distance, records}`` (the running total it returns). That running
total is the tumbling window's state: 04's state-over-time plot draws it.

Example
-------
>>> running_totals(pd.DataFrame(columns=["time", "log_stream", "message"])).empty
True
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .monitor import invocations_from_logs, parse_line

# Lambda's own frame lines around each call (the same pattern monitor.py reads).
_REQUEST = re.compile(r"^(START|END|REPORT) RequestId: ([0-9a-fA-F-]+)")

STATE_COLUMNS = ["time", "request_id", "shardId", "windowStart", "windowEnd", "name", "added",
                 "distance", "records"]


def running_totals(logs: pd.DataFrame, window_seconds: int | None = None) -> pd.DataFrame:
    """One row per batch call and unicorn: what the call added and the state it returned.

    ``logs`` is what ``monitor.log_events()`` returns. Columns: time (the call's START),
    request_id, shardId, windowStart, windowEnd (the call's window, as
    ``monitor.invocations_from_logs`` finds it), name, added (records of this batch),
    distance and records (the running total in the returned state).

    Example
    -------
    >>> t = pd.Timestamp("2024-05-01T12:00:00.5Z")
    >>> lines = ["START RequestId: 1a Version: $LATEST",
    ...          'Adding: {"name": "A", "distance": 30.0, "records": 1}',
    ...          'Returning state: {"name": "A", "distance": 30.0, "records": 1}',
    ...          "REPORT RequestId: 1a\\tDuration: 1.0 ms"]
    >>> logs = pd.DataFrame({"time": [t] * 4, "log_stream": ["s"] * 4, "message": lines})
    >>> running_totals(logs, 60)[["name", "added", "distance", "records"]].values.tolist()
    [['A', 1, 30.0, 1]]
    """
    rows: list[dict[str, Any]] = []
    open_calls: dict[str, tuple[Any, str]] = {}  # log stream -> (START time, request id)
    added: dict[tuple[str, str], int] = {}
    for _, ev in logs.iterrows():
        message, stream = str(ev["message"]), str(ev["log_stream"])
        request = _REQUEST.match(message)
        if request:
            if request.group(1) == "START":
                open_calls[stream] = (ev["time"], request.group(2))
            continue
        parsed = parse_line(message)
        if stream not in open_calls or parsed is None:
            continue
        label, obj = parsed
        time, rid = open_calls[stream]
        name = str(obj.get("name"))
        if label == "Adding":
            added[(rid, name)] = int(pd.to_numeric(obj.get("records", 0), errors="coerce") or 0)
        elif label == "Returning state":
            rows.append({"time": time, "request_id": rid, "name": name,
                         "added": added.get((rid, name), 0),
                         "distance": float(pd.to_numeric(obj.get("distance"), errors="coerce")),
                         "records": int(pd.to_numeric(obj.get("records"), errors="coerce"))})
    out = pd.DataFrame(rows, columns=[c for c in STATE_COLUMNS
                                      if c not in ("shardId", "windowStart", "windowEnd")])
    if out.empty:
        return pd.DataFrame(columns=STATE_COLUMNS)
    out = out.merge(_call_windows(logs, out, window_seconds), on="request_id", how="left")
    return out[STATE_COLUMNS].sort_values(["time", "name"], kind="stable").reset_index(drop=True)


def _call_windows(logs: pd.DataFrame, calls: pd.DataFrame,
                  window_seconds: int | None) -> pd.DataFrame:
    """request_id -> shardId, windowStart, windowEnd of each batch call."""
    if logs["message"].astype(str).str.startswith("Final:").any():
        found = invocations_from_logs(logs, window_seconds)
        return found[["request_id", "shardId", "windowStart", "windowEnd"]]
    # No window has closed yet (monitor.invocations_from_logs needs a final call to compare
    # with): the window is the arrival second floored to the window length, if known.
    out = calls[["request_id", "time"]].drop_duplicates("request_id")
    starts = out["time"].dt.floor(f"{window_seconds}s") if window_seconds else pd.NaT
    return pd.DataFrame({"request_id": out["request_id"], "shardId": None,
                         "windowStart": starts,
                         "windowEnd": starts + pd.Timedelta(seconds=window_seconds or 0)})
