"""Tampering with a table of windows, as the reconciliation tests do (pure, no AWS).

A run is kept as ``Windows``: (name, window start) -> the distances of that window's records in
arrival order, taken from the stream. ``rows`` turns it into what the function writes (count,
whole metres rounded half up); the tamperings change the records behind one or two rows and
write those rows again, so each tampered row is one the function could have written.

Example
-------
>>> w = {("a", 0): [30.2, 29.9], ("a", 2): [30.4]}
>>> rows(move_last(w, "a", 0, 2))
{('a', 0): (1, 30.0), ('a', 2): (2, 60.0)}
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from wildrydes_helpers.ledger import Ledger
from wildrydes_helpers.window_checks import ROUNDING_PER_WINDOW_M

Windows = dict[tuple[str, int], list[float]]
Rows = dict[tuple[str, int], tuple[int, float]]


def whole_metres(distances: list[float]) -> float:
    """The function's stored distance: the decimal sum, rounded half up to whole metres.

    Example
    -------
    >>> whole_metres([12.25, 0.25])
    13.0
    """
    total = sum((Decimal(repr(d)) for d in distances), Decimal(0))
    return float(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rows(windows: Windows) -> Rows:
    """The table rows the function writes for these windows (none for an empty window)."""
    return {k: (len(v), whole_metres(v)) for k, v in sorted(windows.items()) if v}


def frame(table: Rows, window_seconds: int) -> pd.DataFrame:
    """Rows as ``query.windows()`` returns them."""
    return pd.DataFrame([{
        "name": n, "windowStart": pd.Timestamp(s, unit="s", tz="UTC"),
        "windowEnd": pd.Timestamp(s + window_seconds, unit="s", tz="UTC"),
        "distance": d, "records": r, "shardId": "shardId-000000000000"}
        for (n, s), (r, d) in sorted(table.items())],
        columns=["name", "windowStart", "windowEnd", "distance", "records", "shardId"])


def move_last(windows: Windows, name: str, start: int, w: int) -> Windows:
    """The last record of window ``start`` counted in the next window instead."""
    out = copy.deepcopy(windows)
    out.setdefault((name, start + w), []).insert(0, out[(name, start)].pop())
    return out


def lose_and_double(windows: Windows, name: str, start: int, w: int, lost: int,
                    doubled: int) -> Windows:
    """Record ``lost`` of window ``start`` lost, record ``doubled`` of the next counted twice."""
    out = copy.deepcopy(windows)
    del out[(name, start)][lost]
    nxt = out[(name, start + w)]
    nxt.append(nxt[doubled])
    return out


def window_into(table: Rows, name: str, gone: int, into: int) -> Rows:
    """Window ``gone``'s row missing, its count and distance added to window ``into``'s row
    (not a neighbour): the unicorn's totals are unchanged."""
    out = dict(table)
    records, distance = out.pop((name, gone))
    r, d = out[(name, into)]
    out[(name, into)] = (r + records, d + distance)
    return out


def record_into_extra(windows: Windows, name: str, start: int, extra: int) -> Windows:
    """The middle record of window ``start`` counted in window ``extra`` (one that holds no
    record of the run, and is no neighbour of ``start``) instead: an extra window appears."""
    out = copy.deepcopy(windows)
    records = out[(name, start)]
    out.setdefault((name, extra), []).append(records.pop(len(records) // 2))
    return out


def totals_match(ledger: Ledger, table: Rows) -> bool:
    """The old check: per unicorn the table's count equals the ledger's, and its distance
    is within 0.5 m per window of the ledger's."""
    for name, u in ledger.unicorns.items():
        mine = [v for (n, _), v in table.items() if n == name]
        count = sum(r for r, _ in mine)
        distance = sum(d for _, d in mine)
        if count != u.records or abs(distance - u.distance) > ROUNDING_PER_WINDOW_M * len(
                mine) + 1e-6:
            return False
    return True
