"""The state the function handed back to Lambda, call by call, read from its logs (pure).

Each batch call logs, per unicorn, ``Adding: {name, distance, records}`` (this batch) and
``Returning state: {name, distance, records}`` (the running total it returns); a window's
final call logs ``Final: {window, shardId, state}``. The running total is the tumbling
window's state: 04's state-over-time plot draws it.

Example
-------
>>> running_totals(pd.DataFrame(columns=["time", "log_stream", "message"])).empty
True
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .monitor import parse_line

STATE_COLUMNS = ["time", "request_id", "shardId", "windowStart", "windowEnd", "name", "added",
                 "distance", "records"]
FINAL_CALL_COLUMNS = ["time", "request_id", "shardId", "windowStart", "windowEnd"]
# Lambda's own frame line that opens each call (the same pattern monitor.py reads).
_START = re.compile(r"^START RequestId: ([0-9a-fA-F-]+)")


def _utc(text: Any) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        return pd.NaT
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def read_calls(logs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One pass over ``logs``: (one row per batch call and unicorn, one row per final call).

    The batch rows have no window yet (see ``running_totals``). One pass with itertuples,
    as 04's logs of a 60 s run hold thousands of lines.

    Example
    -------
    >>> read_calls(pd.DataFrame(columns=["time", "log_stream", "message"]))[1].empty
    True
    """
    rows: list[dict[str, Any]] = []
    finals: list[dict[str, Any]] = []
    open_calls: dict[str, tuple[Any, str]] = {}  # log stream -> (START time, request id)
    added: dict[tuple[str, str], int] = {}
    for time, stream, message in logs[["time", "log_stream", "message"]].itertuples(
            index=False, name=None):
        message, stream = str(message), str(stream)
        start = _START.match(message)
        if start:
            open_calls[stream] = (time, start.group(1))
            continue
        parsed = parse_line(message)
        if stream not in open_calls or parsed is None:
            continue
        label, obj = parsed
        call_time, rid = open_calls[stream]
        if label == "Final":
            window = obj.get("window") if isinstance(obj.get("window"), dict) else {}
            finals.append({"time": call_time, "request_id": rid, "shardId": obj.get("shardId"),
                           "windowStart": _utc(window.get("start")),
                           "windowEnd": _utc(window.get("end"))})
            continue
        name = str(obj.get("name"))
        if label == "Adding":
            added[(rid, name)] = int(pd.to_numeric(obj.get("records", 0), errors="coerce") or 0)
        elif label == "Returning state":
            rows.append({"time": call_time, "request_id": rid, "name": name,
                         "added": added.get((rid, name), 0),
                         "distance": float(pd.to_numeric(obj.get("distance"), errors="coerce")),
                         "records": int(pd.to_numeric(obj.get("records"), errors="coerce"))})
    batch = pd.DataFrame(rows, columns=["time", "request_id", "name", "added", "distance",
                                        "records"])
    return batch, pd.DataFrame(finals, columns=FINAL_CALL_COLUMNS)


def running_totals(logs: pd.DataFrame, window_seconds: int | None = None) -> pd.DataFrame:
    """One row per batch call and unicorn: what the call added and the state it returned.

    ``logs`` is what ``monitor.log_events()`` returns. Columns: time (the call's START),
    request_id, shardId, windowStart, windowEnd, name, added (records of this batch),
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
    return assign_windows(*read_calls(logs), window_seconds)


def assign_windows(batch: pd.DataFrame, finals: pd.DataFrame,
                   window_seconds: int | None) -> pd.DataFrame:
    """Give each batch row (``read_calls``) its window: that of the next final call, since a
    window's final call comes before any record of a later window; with no final call
    after it yet (the window is still open), its time floored to ``window_seconds``.

    Example
    -------
    >>> batch = pd.DataFrame({"time": [pd.Timestamp("2024-05-01T12:00:30Z")],
    ...     "request_id": ["1"], "name": ["A"], "added": [1], "distance": [30.0],
    ...     "records": [1]})
    >>> assign_windows(batch, read_calls(pd.DataFrame(columns=["time", "log_stream",
    ...     "message"]))[1], 60)["windowStart"].dt.strftime("%H:%M:%S").tolist()
    ['12:00:00']
    """
    if batch.empty:
        return pd.DataFrame(columns=STATE_COLUMNS)
    batch = batch.sort_values("time", kind="stable").reset_index(drop=True)
    time = pd.to_datetime(batch["time"], utc=True)
    shard = pd.Series([None] * len(batch), dtype=object)
    start = pd.Series(pd.NaT, index=batch.index, dtype="datetime64[ns, UTC]")
    end = start.copy()
    later = finals.dropna(subset=["time"])
    if len(later):
        later = later.assign(time=pd.to_datetime(later["time"], utc=True).astype(
            "datetime64[ns, UTC]")).sort_values("time", kind="stable")
        left = pd.DataFrame({"time": time.astype("datetime64[ns, UTC]"),
                             "row": batch.index})
        matched = pd.merge_asof(left, later.drop(columns="request_id"), on="time",
                                direction="forward").set_index("row").sort_index()
        # A next final whose window starts after the call is not this call's window.
        good = matched["windowStart"].notna() & (matched["windowStart"] <= time)
        shard[good] = matched.loc[good, "shardId"]
        start[good] = matched.loc[good, "windowStart"]
        end[good] = matched.loc[good, "windowEnd"]
    if window_seconds:
        missing = start.isna()
        floor = time.dt.floor(f"{window_seconds}s")
        start[missing] = floor[missing]
        end[missing] = floor[missing] + pd.Timedelta(seconds=window_seconds)
    out = batch.assign(shardId=shard, windowStart=start, windowEnd=end)
    return out[STATE_COLUMNS].sort_values(["time", "name"], kind="stable").reset_index(drop=True)
