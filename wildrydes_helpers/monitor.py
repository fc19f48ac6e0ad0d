"""Step 4: read the function's CloudWatch logs and see the tumbling window at work.

The function logs ``Label: {json}`` lines (lambda/index.py): ``Existing``, ``Adding`` and
``Returning state`` per unicorn and batch, and one ``Final`` line per window and shard with
the window's state. Lambda adds ``START``, ``END`` and ``REPORT`` lines around each call.

Example
-------
>>> parse_line('Final: {"window": {"start": "a"}}')
('Final', {'window': {'start': 'a'}})
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from .errors import PrerequisiteError
from .lab_step import lab_step
from .notebook_names import NB_FUNCTION, NB_MONITOR
from .session import LabSession

LOG_COLUMNS = ["time", "log_stream", "message"]
FINAL_COLUMNS = ["time", "shardId", "windowStart", "windowEnd", "name", "distance", "records",
                 "terminated_early"]
INVOCATION_COLUMNS = ["time", "log_stream", "request_id", "kind", "shardId", "windowStart",
                      "windowEnd", "records", "unicorns", "duration_ms"]
_LABELLED = re.compile(r"^([A-Za-z][A-Za-z ]{0,40}):\s*(\{.*\})\s*$", re.DOTALL)
_REQUEST = re.compile(r"^(START|END|REPORT) RequestId: ([0-9a-fA-F-]+)")
_DURATION = re.compile(r"\bDuration: ([0-9.]+) ms")


def parse_line(message: str) -> tuple[str, dict[str, Any]] | None:
    """Split a ``Label: {json}`` log line into its label and object, or None.

    Example
    -------
    >>> parse_line("Adding: not json") is None
    True
    """
    match = _LABELLED.match(message.strip())
    if not match:
        return None
    try:
        value = json.loads(match.group(2))
    except ValueError:
        return None
    return (match.group(1), value) if isinstance(value, dict) else None


def _since_ms(since: Any) -> int | None:
    if since is None:
        return None
    if isinstance(since, timedelta):
        since = datetime.now(UTC) - since
    if isinstance(since, datetime):
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return int(since.timestamp() * 1000)
    return int(float(since) * 1000)  # epoch seconds


def _utc(text: Any) -> Any:
    try:
        return pd.Timestamp(text).tz_convert("UTC") if pd.Timestamp(text).tzinfo else \
            pd.Timestamp(text).tz_localize("UTC")
    except (ValueError, TypeError):
        return pd.NaT


@lab_step(NB_MONITOR)
def log_events(since: Any = None, filter_pattern: str | None = None, limit: int = 20000, *,
               session: LabSession | None = None) -> pd.DataFrame:
    """The function's log events, oldest first: time (UTC), log_stream, message.

    Parameters
    ----------
    since : datetime, timedelta or epoch seconds, optional
        Only events from then on (a timedelta means "that long ago").
    filter_pattern : str, optional
        A CloudWatch Logs filter pattern, e.g. ``'"Final:"'``.

    Example
    -------
    >>> log_events(filter_pattern='"Final:"').tail(3)   # doctest: +SKIP
    """
    assert session is not None
    logs = session.client("logs")
    params: dict[str, Any] = {"logGroupName": session.config.log_group_name}
    start = _since_ms(since)
    if start is not None:
        params["startTime"] = start
    if filter_pattern:
        params["filterPattern"] = filter_pattern
    rows: list[dict[str, Any]] = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**params):
            for ev in page.get("events", []):
                rows.append({"time": pd.Timestamp(ev["timestamp"], unit="ms", tz="UTC"),
                             "log_stream": ev.get("logStreamName", ""),
                             "message": ev.get("message", "").rstrip("\n")})
            if len(rows) >= limit:
                break
    except logs.exceptions.ResourceNotFoundException:
        raise PrerequisiteError(
            f"The function has not logged anything yet (no log group "
            f"{session.config.log_group_name}). Create it in {NB_FUNCTION}, start the producer "
            f"in {NB_MONITOR}, and wait a few seconds.") from None
    df = pd.DataFrame(rows, columns=LOG_COLUMNS)
    # Stable by time, then by the order CloudWatch returned (the order of each stream).
    return df.sort_values("time", kind="stable").reset_index(drop=True)


def finals_from_logs(df: pd.DataFrame) -> pd.DataFrame:
    """One row per unicorn per ``Final:`` line of ``df`` (pure: no AWS call).

    Example
    -------
    >>> row = {"time": pd.Timestamp(0, tz="UTC"), "log_stream": "s", "message":
    ...        'Final: {"window": {"start": "1970-01-01T00:00:00Z", "end": '
    ...        '"1970-01-01T00:01:00Z"}, "shardId": "shardId-0", "state": {"unicorns": '
    ...        '{"a": {"distance": 60.5, "records": 2}}}}'}
    >>> finals_from_logs(pd.DataFrame([row]))[["name", "distance", "records"]].values.tolist()
    [['a', 60.5, 2]]
    """
    rows = []
    for _, ev in df.iterrows():
        parsed = parse_line(str(ev["message"]))
        if parsed is None or parsed[0] != "Final":
            continue
        obj = parsed[1]
        window = obj.get("window") if isinstance(obj.get("window"), dict) else {}
        state = obj.get("state") if isinstance(obj.get("state"), dict) else {}
        unicorns = state.get("unicorns") if isinstance(state.get("unicorns"), dict) else {}
        base = {"time": ev["time"], "shardId": obj.get("shardId"),
                "windowStart": _utc(window.get("start")), "windowEnd": _utc(window.get("end")),
                "terminated_early": bool(obj.get("isWindowTerminatedEarly", False))}
        for name, totals in unicorns.items():
            totals = totals if isinstance(totals, dict) else {}
            rows.append({**base, "name": name,
                         "distance": pd.to_numeric(totals.get("distance"), errors="coerce"),
                         "records": pd.to_numeric(totals.get("records"), errors="coerce")})
    return pd.DataFrame(rows, columns=FINAL_COLUMNS)


@lab_step(NB_MONITOR)
def final_events(since: Any = None, *, session: LabSession | None = None) -> pd.DataFrame:
    """The window totals the function logged in its ``Final:`` lines, one row per unicorn.

    Example
    -------
    >>> final_events()[["windowStart", "name", "distance"]]   # doctest: +SKIP
    """
    return finals_from_logs(log_events(since=since, session=session))


def invocations_from_logs(df: pd.DataFrame, window_seconds: int | None = None) -> pd.DataFrame:
    """One row per invocation found in ``df`` (pure: no AWS call).

    A batch call's lines do not name their window; it is taken from the next final call of
    the log, since a window's final call comes before any record of a later window.

    Example
    -------
    >>> invocations_from_logs(pd.DataFrame(columns=LOG_COLUMNS)).empty
    True
    """
    calls: list[dict[str, Any]] = []
    open_calls: dict[str, dict[str, Any]] = {}
    for _, ev in df.iterrows():
        message, stream = str(ev["message"]), str(ev["log_stream"])
        request = _REQUEST.match(message)
        if request:
            word, rid = request.groups()
            if word == "START":
                open_calls[stream] = {"time": ev["time"], "log_stream": stream,
                                      "request_id": rid, "kind": "batch", "shardId": None,
                                      "windowStart": pd.NaT, "windowEnd": pd.NaT,
                                      "records": 0, "unicorns": 0, "duration_ms": None}
                calls.append(open_calls[stream])
            elif word == "REPORT" and stream in open_calls:
                duration = _DURATION.search(message)
                open_calls.pop(stream)["duration_ms"] = float(duration.group(1)) \
                    if duration else None
            continue
        call = open_calls.get(stream)
        parsed = parse_line(message)
        if call is None or parsed is None:
            continue
        label, obj = parsed
        if label == "Adding":
            call["records"] += int(pd.to_numeric(obj.get("records", 0), errors="coerce") or 0)
            call["unicorns"] += 1
        elif label == "Final":
            window = obj.get("window") if isinstance(obj.get("window"), dict) else {}
            call.update(kind="final", shardId=obj.get("shardId"),
                        windowStart=_utc(window.get("start")), windowEnd=_utc(window.get("end")))
    out = pd.DataFrame(calls, columns=INVOCATION_COLUMNS)
    if out.empty:
        return out
    out = out.sort_values("time", kind="stable").reset_index(drop=True)
    for column in ("windowStart", "windowEnd"):  # all NaT before a final: make them UTC times
        out[column] = pd.to_datetime(out[column], utc=True)
    finals = out[out["kind"] == "final"]
    for i in out.index[out["kind"] == "batch"]:
        # No final yet (the first window is still open): nothing to compare the times with.
        later = finals[(finals["time"] >= out.at[i, "time"])
                       & (finals["windowStart"] <= out.at[i, "time"])] if len(finals) else finals
        if len(later):
            first = later.iloc[0]
            out.loc[i, ["shardId", "windowStart", "windowEnd"]] = \
                [first["shardId"], first["windowStart"], first["windowEnd"]]
        elif window_seconds:
            start = out.at[i, "time"].floor(f"{window_seconds}s")
            out.loc[i, ["windowStart", "windowEnd"]] = \
                [start, start + pd.Timedelta(seconds=window_seconds)]
    return out


@lab_step(NB_MONITOR)
def invocations(since: Any = None, *, session: LabSession | None = None) -> pd.DataFrame:
    """The function's invocations: time, kind (batch/final), shard, window, records.

    Example
    -------
    >>> invocations().groupby("kind").size()   # doctest: +SKIP
    """
    assert session is not None
    return invocations_from_logs(log_events(since=since, session=session),
                                 session.config.window_seconds)
