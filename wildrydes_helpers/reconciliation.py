"""Did every record the producer sent reach the table exactly once? (pure: no AWS call)

Per unicorn, the records counted in the table must equal the ledger's exactly, and the
distance must agree within the rounding of each window (the function stores whole metres,
so up to 0.5 m per window). Per window the comparison is approximate: Lambda assigns a record
to a window by its Kinesis arrival time, which the producer only approximates (ledger.py).

Example
-------
>>> from wildrydes_helpers.ledger import Ledger
>>> import pandas as pd
>>> led = Ledger(stream="wildrydes", window_seconds=60, started_at=0.0)
>>> led.add("Shadowfax", 30.4, "1", "shardId-000000000000", 1.0)
>>> table = pd.DataFrame({"name": ["Shadowfax"], "windowStart": [pd.Timestamp(0, tz="UTC")],
...                       "distance": [30.0], "records": [1]})
>>> reconcile(led, table).exact
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .ledger import Ledger, window_start

ROUNDING_PER_WINDOW_M = 0.5
_EPS = 1e-6


@dataclass
class UnicornCheck:
    """One unicorn: the ledger's and the table's records and distance."""

    name: str
    ledger_records: int
    table_records: int
    ledger_distance: float
    table_distance: float
    table_windows: int

    @property
    def tolerance(self) -> float:
        return ROUNDING_PER_WINDOW_M * max(self.table_windows, 1) + _EPS

    @property
    def distance_ok(self) -> bool:
        return abs(self.table_distance - self.ledger_distance) <= self.tolerance

    @property
    def verdict(self) -> str:
        diff = self.table_records - self.ledger_records
        if diff < 0:
            return f"{-diff} record(s) missing from the table"
        if diff > 0:
            return f"{diff} record(s) extra in the table (counted twice?)"
        if not self.distance_ok:
            return "records match, but the distance differs by more than the rounding"
        return "exact"


@dataclass
class WindowDifference:
    """A window where the ledger's (approximate) count and the table's differ."""

    name: str
    window: str
    ledger_records: int
    table_records: int


@dataclass
class Reconciliation:
    """The result of :func:`reconcile`: ``.exact``, ``.summary()``, ``.windows_report()``."""

    unicorns: list[UnicornCheck]
    window_differences: list[WindowDifference] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return bool(self.unicorns) and all(u.verdict == "exact" for u in self.unicorns)

    def summary(self) -> str:
        """Per unicorn totals and the verdict; deterministic for a seeded, counted run.

        Example
        -------
        >>> print(Reconciliation([]).summary())
        nothing to reconcile: the ledger holds no records
        """
        if not self.unicorns:
            return "nothing to reconcile: the ledger holds no records"
        lines = []
        for u in self.unicorns:
            lines.append(
                f"{u.name}: {u.ledger_records} records sent, {u.table_records} in the table; "
                f"distance {u.ledger_distance:.3f} m sent, table within "
                f"±{ROUNDING_PER_WINDOW_M} m per window: {'yes' if u.distance_ok else 'no'} "
                f"-> {u.verdict}")
        total = sum(u.ledger_records for u in self.unicorns)
        lines.append(f"verdict: exact ({total} records, each counted once)" if self.exact
                     else "verdict: NOT exact")
        return "\n".join(lines)

    def windows_report(self) -> str:
        """Windows where the ledger's approximate count and the table differ, if any.

        Example
        -------
        >>> Reconciliation([]).windows_report()
        'every window agrees with the ledger'
        """
        if not self.window_differences:
            return "every window agrees with the ledger"
        lines = [f"{d.name} {d.window}: ledger {d.ledger_records}, table {d.table_records}"
                 for d in self.window_differences]
        note = ("(the ledger's window of a record is approximate: it uses the producer's "
                "clock, Lambda uses the Kinesis arrival time; near a boundary a record can "
                "land in the neighbouring window)")
        return "\n".join([*lines, note])

    def __repr__(self) -> str:
        return f"{self.summary()}\n{self.windows_report()}"


def rows_of_run(ledger: Ledger, table: pd.DataFrame) -> pd.DataFrame:
    """The table rows that can hold records of the ledger's run (its unicorns and windows).

    Example
    -------
    >>> rows_of_run(Ledger(stream="s", window_seconds=60), pd.DataFrame(
    ...     {"name": ["x"], "windowStart": [pd.Timestamp(0, tz="UTC")], "records": [1]})).empty
    True
    """
    if table is None or table.empty or not ledger.unicorns:
        return table.iloc[0:0] if table is not None else pd.DataFrame()
    w = ledger.window_seconds
    last = max(u.last_arrival or ledger.started_at for u in ledger.unicorns.values())
    lo = pd.Timestamp(window_start(ledger.started_at, w))
    hi = pd.Timestamp(window_start(last, w))
    starts = pd.to_datetime(table["windowStart"], utc=True)
    keep = table["name"].isin(list(ledger.unicorns)) & (starts >= lo) & (starts <= hi)
    return table[keep]


def reconcile(ledger: Ledger, table: pd.DataFrame) -> Reconciliation:
    """Compare the producer's ledger with the table's rows (from ``query.windows()``).

    Example
    -------
    >>> reconcile(Ledger(stream="s", window_seconds=60), pd.DataFrame()).exact
    False
    """
    rows = rows_of_run(ledger, table)
    checks, diffs = [], []
    for name in sorted(ledger.unicorns):
        u = ledger.unicorns[name]
        mine = rows[rows["name"] == name] if len(rows) else rows
        checks.append(UnicornCheck(
            name=name, ledger_records=u.records,
            table_records=int(mine["records"].sum()) if len(mine) else 0,
            ledger_distance=round(u.distance, 6),
            table_distance=float(mine["distance"].sum()) if len(mine) else 0.0,
            table_windows=len(mine)))
        table_counts: dict[str, int] = {}
        for _, row in mine.iterrows():
            key = pd.Timestamp(row["windowStart"]).strftime("%Y-%m-%dT%H:%M:%SZ")
            table_counts[key] = table_counts.get(key, 0) + int(row["records"])
        for key in sorted(set(table_counts) | set(u.windows)):
            if table_counts.get(key, 0) != u.windows.get(key, 0):
                diffs.append(WindowDifference(name, key, u.windows.get(key, 0),
                                              table_counts.get(key, 0)))
    return Reconciliation(checks, diffs)
