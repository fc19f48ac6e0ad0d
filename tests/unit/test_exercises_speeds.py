"""05's exercise: the speed checker accepts the answer key and names each usual slip."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from wildrydes_helpers.exercises import check_speeds

REPO = Path(__file__).resolve().parents[2]
W = 10  # a short window: dividing by 60 then differs from dividing by the window

UNSOLVED_OUTPUT = """\
Exercise 05: each unicorn's average speed (m/s) in each window
[hint] no answer yet: set speeds to a DataFrame with the columns name, windowStart and speed
       (m/s).
Not solved yet: change `speeds` as the hint says, run its cell, then run this check again."""


def _table() -> pd.DataFrame:
    """Two unicorns, three windows of W s: a partial first and last window, a full middle."""
    start = pd.Timestamp("2026-11-27 10:00:00", tz="UTC")
    rows = []
    for name, speeds in (("Shadowfax", (30.0, 29.0, 31.0)), ("Rocinante", (31.5, 30.0, 28.0))):
        for i, (records, speed) in enumerate(zip((4, W, 7), speeds, strict=True)):
            ws = start + pd.Timedelta(seconds=i * W)
            rows.append({"name": name, "windowStart": ws, "windowEnd": ws + pd.Timedelta(seconds=W),
                         "distance": round(records * speed), "records": records,
                         "shardId": "shardId-000000000000"})
    return pd.DataFrame(rows).sort_values(["name", "windowStart"]).reset_index(drop=True)


def _answer_key() -> Any:
    spec = importlib.util.spec_from_file_location("answer_05",
                                                  REPO / "teacher" / "answers" / "05_speeds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.speeds_of


def test_the_answer_key_passes() -> None:
    table = _table()
    report = check_speeds(_answer_key()(table), table, W)
    assert report.passed, repr(report)


@pytest.mark.parametrize("answer", [
    lambda t: t["distance"] / t["records"],  # a Series on the table's own rows
    lambda t: t.groupby(["name", "windowStart"])["distance"].sum()
    / t.groupby(["name", "windowStart"])["records"].sum(),
    lambda t: t.assign(speed=(t["distance"] / t["records"]).round(1))
    .set_index(["name", "windowStart"])[["speed"]],
    lambda t: t.assign(speed=t["distance"] / t["records"]).sample(frac=1, random_state=1),
])
def test_other_right_shapes_pass(answer: Any) -> None:
    table = _table()
    assert check_speeds(answer(table), table, W).passed


def test_no_answer_yet_gives_the_same_hint_every_time() -> None:
    table = _table()
    assert repr(check_speeds(None, table, W)) == UNSOLVED_OUTPUT


@pytest.mark.parametrize(("answer", "window", "words"), [
    (lambda t: t.assign(speed=t["distance"] / 60), W, "you divided by 60, but a window of this"),
    (lambda t: t.assign(speed=t["distance"] / 60), 60, "the window's 60 s"),
    (lambda t: t.assign(speed=t["distance"] / W), W, f"you divided by the window's {W} s"),
    (lambda t: t.assign(speed=t["distance"]), W, "metres per window, not metres per second"),
    (lambda t: t.assign(speed=t["records"] / t["distance"]), W, "the wrong way round"),
    (lambda t: t.groupby("name")["distance"].sum() / t.groupby("name")["records"].sum(), W,
     "one speed per unicorn, over all windows"),
    (lambda t: t.groupby("windowStart")["distance"].mean(), W, "mixing the unicorns"),
    (lambda t: t["distance"].sum() / t["records"].sum(), W, "one number for every unicorn"),
    (lambda t: t.assign(speed=t["distance"] / t["records"]).head(3), W, "your answer has 3 rows"),
    (lambda t: t.assign(v=t["distance"] / t["records"]), W, "a column named speed"),
    (lambda t: t[["distance", "records"]].assign(speed=1.0), W, "the columns name and windowStart"),
    (lambda t: "30 m/s", W, "speeds should be a DataFrame"),
])
def test_each_usual_slip_is_named(answer: Any, window: int, words: str) -> None:
    table = _table()
    if window == 60:  # the same slip in a 60 s lab: partial first and last windows
        table = table.assign(windowEnd=table["windowStart"] + pd.Timedelta(seconds=60),
                             records=table["records"] * 6, distance=table["distance"] * 6)
    report = check_speeds(answer(table), table, window)
    assert not report.passed
    assert any(words in hint for hint in report.hints), repr(report)
