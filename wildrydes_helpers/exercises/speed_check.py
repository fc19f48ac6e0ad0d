"""05's checker: each unicorn's average speed in m/s in each window, from the table.

The question: a row of the table says how far a unicorn flew in a window (``distance``, m)
and in how many records; each record reports one second of flight, so the seconds it flew
are ``records``, and its average speed is ``distance / records`` m/s. The answer is a
DataFrame with the columns ``name``, ``windowStart`` and ``speed`` (a Series indexed by
name and windowStart, or by the table's own rows, is accepted too).

The checker recomputes the key from the same table and names the usual slips: dividing by
60 or by the window's length (wrong for the first and last, partial windows), not dividing
at all, dividing the wrong way round, and grouping by only one of the two keys.

Example
-------
>>> import pandas as pd
>>> t = pd.DataFrame({"name": ["a", "a"], "windowStart": [0, 60],
...                   "distance": [300.0, 1800.0], "records": [10, 60]})
>>> check_speeds(t.assign(speed=t.distance / t.records), t, 60).passed
True
>>> check_speeds(t.assign(speed=t.distance / 60), t, 60).hints[0][:46]
'speed: a in window 0 is 5 m/s; expected 30 m/s'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import load_config
from .report import ExerciseReport

TITLE = "Exercise 05: each unicorn's average speed (m/s) in each window"
SOLVED = ("Solved: distance / records is the average speed, because each record is one "
          "second of flight. About 30 m/s is the producer's unicorn speed.")
UNSOLVED = ("Not solved yet: change `speeds` as the hint says, run its cell, then run this "
            "check again.")
TOLERANCE = 0.051  # m/s: an answer rounded to one decimal still passes
KEYS = ["name", "windowStart"]


def answer_key(table: pd.DataFrame) -> pd.Series:
    """The expected speeds, indexed by (name, windowStart).

    Example
    -------
    >>> t = pd.DataFrame({"name": ["a"], "windowStart": [0], "distance": [90.0], "records": [3]})
    >>> answer_key(t).tolist()
    [30.0]
    """
    return (table["distance"] / table["records"]).set_axis(
        pd.MultiIndex.from_frame(table[KEYS])).rename("speed")


def _to_series(answer: Any, table: pd.DataFrame) -> pd.Series | str:
    """The answer as speeds indexed by (name, windowStart), or a hint about its shape."""
    if isinstance(answer, pd.DataFrame):
        frame = answer.reset_index() if set(KEYS) <= set(answer.index.names) else answer
        if not set(KEYS) <= set(frame.columns):
            return ("speeds needs the columns name and windowStart beside speed: keep them "
                    "(e.g. table.assign(speed=...)[['name', 'windowStart', 'speed']]).")
        if "speed" not in frame.columns:
            return "speeds needs a column named speed (m/s)."
        return frame["speed"].set_axis(pd.MultiIndex.from_frame(frame[KEYS]))
    if isinstance(answer, pd.Series):
        names = [n for n in answer.index.names if n is not None]
        if set(KEYS) <= set(names):
            return answer.droplevel([n for n in names if n not in KEYS]).reorder_levels(KEYS) \
                if len(names) > 2 else answer.reorder_levels(KEYS)
        if names == ["name"]:
            return ("your answer has one speed per unicorn, over all windows: the question "
                    "asks for one per unicorn *and window*. Group by both, or compute per row.")
        if names == ["windowStart"]:
            return ("your answer has one speed per window, mixing the unicorns: the question "
                    "asks for one per unicorn and window. Keep name as well.")
        if answer.index.equals(table.index):  # computed row by row from the table
            return answer.set_axis(pd.MultiIndex.from_frame(table[KEYS]))
        return ("speeds should be indexed by the table's rows, or by name and windowStart; "
                "start from table['distance'] / table['records'].")
    if isinstance(answer, int | float | np.number):
        return ("your answer is one number for every unicorn and window: the question asks for "
                "one per unicorn and window. Divide column by column: table['distance'] / ...")
    return ("speeds should be a DataFrame with the columns name, windowStart and speed: "
            "start from table.assign(speed=table['distance'] / ...).")


def _slip(got: pd.Series, table: pd.DataFrame, window_seconds: int) -> str:
    """Which usual slip ``got`` matches, as a hint, given the rows that differ."""
    span = (pd.to_datetime(table["windowEnd"]) - pd.to_datetime(table["windowStart"])) \
        .dt.total_seconds() if "windowEnd" in table.columns else float(window_seconds)
    index = pd.MultiIndex.from_frame(table[KEYS])
    candidates = [
        (table["distance"] / 60,
         f"you divided by 60, but a window of this run is {window_seconds} s, and a unicorn "
         "does not fly every second of every window"
         if window_seconds != 60 else
         "you divided by the window's 60 s, but in the first and last windows the unicorn "
         "flew only part of the window"),
        (table["distance"] / window_seconds,
         f"you divided by the window's {window_seconds} s, but in the first and last windows "
         "the unicorn flew only part of the window"),
        (table["distance"] / span,
         "you divided by the window's length, but in the first and last windows the unicorn "
         "flew only part of the window"),
        (table["distance"], "these are metres per window, not metres per second"),
        (table["records"] / table["distance"], "you divided the wrong way round"),
    ]
    for values, why in candidates:
        expected = values.set_axis(index).reindex(got.index)
        if np.allclose(got.to_numpy(float), expected.to_numpy(float), atol=TOLERANCE,
                       equal_nan=False):
            return (f"{why}. Each record is one second of flight: divide by the seconds it "
                    "flew, table['records'].")
    return "divide each row's distance by its records (one record per second of flight)."


def check_speeds(answer: Any, table: pd.DataFrame,
                 window_seconds: int | None = None) -> ExerciseReport:
    """Compare ``answer`` with the speeds of ``table``; explain the first difference.

    ``window_seconds``: the run's window length (default: this kernel's configuration).
    Never raises: an unsolved answer (``None``, a wrong shape) gives a hint.

    Example
    -------
    >>> check_speeds(None, pd.DataFrame()).passed
    False
    """
    if window_seconds is None:
        window_seconds = load_config().window_seconds
    report = ExerciseReport(TITLE, solved=SOLVED, unsolved=UNSOLVED)
    if answer is None or answer is Ellipsis:
        report.checks.append(("hint", "no answer yet: set speeds to a DataFrame with the "
                                      "columns name, windowStart and speed (m/s)."))
        return report
    if table is None or len(table) == 0:
        report.checks.append(("hint", "the table has no rows yet: run the cells above first."))
        return report
    try:
        got = _to_series(answer, table)
        if isinstance(got, str):
            report.checks.append(("hint", got))
            return report
        got = pd.to_numeric(got, errors="coerce").astype(float)
        want = answer_key(table)
        if len(got) != len(want) or got.index.duplicated().any() or \
                not got.index.isin(want.index).all():
            report.checks.append(("hint", (
                f"your answer has {len(got)} rows, the table {len(want)}: give one speed per "
                "row of the table, that is per unicorn and window.")))
            return report
        got = got.reindex(want.index)
        wrong = ~np.isclose(got.to_numpy(), want.to_numpy(), atol=TOLERANCE)
    except Exception as exc:  # an answer of a shape no branch above foresaw: still a hint
        report.checks.append(("hint", f"the check could not read your answer ({exc}); make "
                                      "speeds a DataFrame with name, windowStart and speed."))
        return report
    if wrong.any():
        (name, start), g, w = want.index[wrong][0], got[wrong].iloc[0], want[wrong].iloc[0]
        report.checks.append(("hint", (
            f"speed: {name} in window {start} is {g:.3g} m/s; expected {w:.3g} m/s "
            f"({int(wrong.sum())} of {len(want)} rows differ): "
            + _slip(got.reindex(pd.MultiIndex.from_frame(table[KEYS])), table,
                    window_seconds))))
        return report
    report.checks.append(("ok", f"one speed per unicorn and window ({len(want)} rows), each "
                                "distance / records"))
    return report
