"""Steps 4 and 5 from data we put in ourselves: logs, table items, plots, waiting."""

from __future__ import annotations

import json
import time

import matplotlib
import pandas as pd
import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import calls_named, prefixed
from wildrydes_helpers.errors import PrerequisiteError
from wildrydes_helpers.ledger import Ledger

matplotlib.use("Agg")
START = "2024-05-01T12:00:00Z"


def _put_items(s, rows):
    ddb = s.client("dynamodb")
    for name, start, end, dist, recs in rows:
        ddb.put_item(TableName=s.config.table_name, Item={
            "name": {"S": name}, "windowStart": {"S": start}, "windowEnd": {"S": end},
            "distance": {"N": str(dist)}, "records": {"N": str(recs)},
            "shardId": {"S": "shardId-000000000000"}})


@pytest.fixture(scope="module")
def table_lab(lab):
    s = prefixed(lab, "hq")
    wr.create_table(session=s)
    _put_items(s, [
        ("Shadowfax", "2024-05-01T12:01:00Z", "2024-05-01T12:02:00Z", 1803, 60),
        ("Shadowfax", START, "2024-05-01T12:01:00Z", 1799, 60),
        ("Rocinante", START, "2024-05-01T12:01:00Z", 1805, 60)])
    return s


def test_windows_of_one_unicorn_uses_a_name_placeholder(table_lab):
    df = wr.windows("Shadowfax", session=table_lab)
    assert list(df.columns) == ["name", "windowStart", "windowEnd", "distance", "records",
                                "shardId"]
    assert df["distance"].tolist() == [1799.0, 1803.0]  # sorted by window, numbers
    assert df["records"].dtype.kind == "i" and str(df["windowStart"].dt.tz) == "UTC"
    query = calls_named(df.attrs["calls"], "Query")[0].params
    assert query["ExpressionAttributeNames"] == {"#n": "name"}
    assert "#n" in query["KeyConditionExpression"]


def test_windows_of_all_unicorns_scans(table_lab):
    df = wr.windows(session=table_lab)
    assert df["name"].tolist() == ["Rocinante", "Shadowfax", "Shadowfax"]
    assert calls_named(df.attrs["calls"], "Scan")


def test_windows_without_a_table_names_step_1(lab):
    with pytest.raises(PrerequisiteError, match="01_create_table"):
        wr.windows(session=prefixed(lab, "hq-none"))


def test_plot_distance_draws_one_bar_per_window_per_unicorn(table_lab):
    _, ax = wr.plot_distance(wr.windows(session=table_lab))
    assert len(ax.patches) == 3
    assert ax.get_title() and ax.get_ylabel() == "distance (m)"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [
        "Rocinante", "Shadowfax"]  # then the expected distance of a full window
    assert [t.get_text() for t in ax.get_xticklabels()] == ["12:00:00", "12:01:00"]


def _log_lines(stream_start_ms: int) -> list[tuple[int, str]]:
    state = {"unicorns": {"Shadowfax": {"distance": 60.5, "records": 2}}}
    final = {"window": {"start": START, "end": "2024-05-01T12:01:00Z"},
             "shardId": "shardId-000000000000", "isWindowTerminatedEarly": False,
             "state": state}
    lines = [
        "START RequestId: 11111111-aaaa Version: $LATEST",
        'Existing: {"name": "Shadowfax", "distance": 0.0, "records": 0}',
        'Adding: {"name": "Shadowfax", "distance": 60.5, "records": 2}',
        'Returning state: {"name": "Shadowfax", "distance": 60.5, "records": 2}',
        "END RequestId: 11111111-aaaa",
        "REPORT RequestId: 11111111-aaaa\tDuration: 3.25 ms\tBilled Duration: 4 ms",
        "START RequestId: 22222222-bbbb Version: $LATEST",
        "Final: " + json.dumps(final),
        "END RequestId: 22222222-bbbb",
        "REPORT RequestId: 22222222-bbbb\tDuration: 9.50 ms\tBilled Duration: 10 ms",
    ]
    return [(stream_start_ms + 10 * i, line) for i, line in enumerate(lines)]


@pytest.fixture(scope="module")
def log_lab(lab):
    s = prefixed(lab, "hl")
    logs = s.client("logs")
    logs.create_log_group(logGroupName=s.config.log_group_name)
    logs.create_log_stream(logGroupName=s.config.log_group_name, logStreamName="2024/05/01/x")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=s.config.log_group_name, logStreamName="2024/05/01/x",
                        logEvents=[{"timestamp": t, "message": m} for t, m in _log_lines(now)])
    return s


def test_log_events_reads_the_log_group(log_lab):
    df = wr.log_events(session=log_lab)
    assert len(df) == 10 and list(df.columns) == ["time", "log_stream", "message"]
    assert df["message"].iloc[0].startswith("START") and str(df["time"].dt.tz) == "UTC"
    finals = wr.log_events(filter_pattern='"Final:"', session=log_lab)
    assert len(finals) == 1


def test_final_events_parse_the_window_and_state(log_lab):
    df = wr.final_events(session=log_lab)
    assert df[["name", "distance", "records", "shardId"]].values.tolist() == [
        ["Shadowfax", 60.5, 2, "shardId-000000000000"]]
    assert df["windowStart"].iloc[0] == pd.Timestamp(START)


def test_invocations_tell_batch_from_final(log_lab):
    df = wr.invocations(session=log_lab)
    assert df["kind"].tolist() == ["batch", "final"]
    assert df["records"].tolist() == [2, 0]
    assert df["duration_ms"].tolist() == [3.25, 9.5]
    assert (df["windowStart"] == pd.Timestamp(START)).all()  # the batch's window inferred
    _, ax = wr.plot_timeline(df)
    assert len(ax.collections) == 2 and ax.get_title()


def test_no_log_group_names_the_steps(lab):
    with pytest.raises(PrerequisiteError, match="04_monitor"):
        wr.log_events(session=prefixed(lab, "hl-none"))


def test_wait_for_windows_returns_when_the_table_has_the_records(table_lab):
    t = pd.Timestamp(START).timestamp()
    led = Ledger(stream="wildrydes", window_seconds=60, started_at=t)
    for i in range(60):
        led.add("Rocinante", 30.0, str(i), "shardId-000000000000", t + i)
    done = wr.wait_for_windows(ledger=led, timeout=5, progress=False, session=table_lab)
    assert done.complete and "All 60 records" in done.message
    led.add("Rocinante", 30.0, "61", "shardId-000000000000", t + 61)
    late = wr.wait_for_windows(ledger=led, timeout=0.5, poll_s=0.1, progress=False,
                               session=table_lab)
    assert not late.complete and late.missing == {"Rocinante": 1}
    assert "Rocinante: 60 of 61" in late.message
