"""Did every record the producer sent reach the table exactly once, in its own window?

The proof goes window by window, from three sources:

- the producer's **ledger**: the shard id and sequence number of every record Kinesis accepted;
- the **stream** itself, read back from TRIM_HORIZON (stream_records.py): each record's data
  and ApproximateArrivalTimestamp, hence its window (start = floor(t / W) * W on the ms);
- the **table**: one row per unicorn and window, as the function wrote it.

It checks that every ledger record is in the stream exactly once, computes each window's
expected records and distance per unicorn from the stream's records, and compares those with
the table: counts exactly, distances within the function's rounding (whole metres, so 0.5 m
per window). ``compare`` is pure (plain data in, no AWS call); ``reconcile`` reads the stream
and calls it.

The windows checked are those of the run's records, and one more on each side (a row there,
with nothing in the stream for it, is extra). Records in the stream that are not in the ledger
(an earlier run, another producer) are ignored and counted, except those of the ledger's
unicorns in these windows: the function added them to the window's total, so the expected
value includes them too.

Example
-------
>>> import json
>>> from wildrydes_helpers.ledger import Ledger
>>> led = Ledger(stream="wildrydes", window_seconds=60, started_at=0.0)
>>> led.add("Shadowfax", 30.4, "1", "shardId-000000000000", 1.0)
>>> data = json.dumps({"Name": "Shadowfax", "Distance": 30.4}).encode()
>>> stream = [StreamRecord("shardId-000000000000", "1", 500, data)]
>>> table = pd.DataFrame({"name": ["Shadowfax"], "windowStart": [pd.Timestamp(0, tz="UTC")],
...                       "distance": [30.0], "records": [1]})
>>> compare(led, stream, table).exact
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import LedgerError
from .ledger import Ledger, window_start
from .session import LabSession
from .stream_records import StreamRecord, read_stream, window_of
from .window_checks import (
    ROUNDING_PER_WINDOW_M,
    Expected,
    WindowCheck,
    check_windows,
    records_phrase,
)

MAX_DISTANCE = 1_000_000_000  # the function's bound (lambda/index.py): above it, unreadable

__all__ = ["ROUNDING_PER_WINDOW_M", "Reconciliation", "StreamRecord", "UnicornCheck",
           "WindowCheck", "compare", "decode", "reconcile", "rows_of_run"]


def decode(data: bytes) -> tuple[str, float] | None:
    """``(Name, Distance)`` of a record's data, or None where the function skips it too.

    The same rules as the function's ``read_record`` (a JSON object, a non-empty string
    Name, a finite Distance from 0 to 1e9 that is not a boolean).

    Example
    -------
    >>> decode(b'{"Name": "Shadowfax", "Distance": 30.5}'), decode(b"not JSON")
    (('Shadowfax', 30.5), None)
    """
    try:
        item = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(item, dict):
        return None
    name, distance = item.get("Name"), item.get("Distance")
    if not isinstance(name, str) or not name.strip():
        return None
    if isinstance(distance, bool) or not isinstance(distance, int | float):
        return None
    if not math.isfinite(distance) or not 0 <= distance <= MAX_DISTANCE:
        return None
    return name, distance


@dataclass
class UnicornCheck:
    """One unicorn: its records in the ledger, the stream and the table, window by window."""

    name: str
    ledger_records: int
    ledger_distance: float
    stream_records: int  # ledger records found in the stream (at least once)
    table_records: int
    table_distance: float
    windows: list[WindowCheck] = field(default_factory=list)
    not_in_stream: list[str] = field(default_factory=list)  # "shard/sequence" of each
    twice_in_stream: list[str] = field(default_factory=list)
    shared: int = 0  # another run's records in (or next to) this run's windows, counted there

    @property
    def differences(self) -> list[WindowCheck]:
        return [w for w in self.windows if w.kind != "ok"]

    @property
    def exact(self) -> bool:
        return not (self.differences or self.not_in_stream or self.twice_in_stream)

    def problems(self) -> list[str]:
        """What is wrong, one short phrase each (a move is one phrase for its two windows).

        Example
        -------
        >>> UnicornCheck("a", 1, 30.0, 0, 0, 0.0, not_in_stream=["s/1"]).problems()
        ['1 record not in the stream']
        """
        out = []
        if self.not_in_stream:
            out.append(f"{records_phrase(len(self.not_in_stream))} not in the stream")
        if self.twice_in_stream:
            out.append(f"{records_phrase(len(self.twice_in_stream))} read twice from the stream")
        for w in self.differences:
            if w.kind != "moved" or w.moved_records > 0:  # the source names the move
                out.append(w.problem())
        return out

    @property
    def verdict(self) -> str:
        return "exact" if self.exact else "NOT exact: " + "; ".join(self.problems())

    def line(self) -> str:
        """The summary's line for this unicorn (deterministic for a seeded, exact run)."""
        shared = (f" ({self.shared} of them another run's, in or next to its windows)"
                  if self.shared else "")
        diff = len(self.differences)
        total = len(self.windows)
        windows = ("every window matches" if not diff else
                   f"{diff} of {total} window{'s' if total > 1 else ''} "
                   f"differ{'s' if diff == 1 else ''}")
        return (f"{self.name}: {self.ledger_records} records sent, {self.stream_records} in "
                f"the stream, {self.table_records} in the table{shared}; distance "
                f"{self.ledger_distance:.3f} m sent; {windows} -> {self.verdict}")


@dataclass
class Reconciliation:
    """The result of :func:`reconcile`: ``.exact``, ``.summary()``, ``.windows_report()``."""

    unicorns: list[UnicornCheck]
    stream: str = ""
    shards: int = 0
    stream_read: int = 0  # records read from the stream, every copy counted
    ignored: int = 0  # stream records of no one in this ledger, outside its windows
    calls: list[Any] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """Every window of every unicorn matches, and every record is in the stream once."""
        return bool(self.unicorns) and all(u.exact for u in self.unicorns)

    @property
    def window_differences(self) -> list[WindowCheck]:
        return [w for u in self.unicorns for w in u.differences]

    def verdict(self) -> str:
        """The verdict line.

        Example
        -------
        >>> Reconciliation([]).verdict()
        'verdict: nothing to reconcile: the ledger holds no records'
        """
        if not self.unicorns:
            return "verdict: nothing to reconcile: the ledger holds no records"
        other = "other record" if self.ignored == 1 else "other records"
        ignored = (f"; {self.ignored} {other} in the stream ignored (not in this ledger)"
                   if self.ignored else "")
        if self.exact:
            total = sum(u.ledger_records for u in self.unicorns)
            return (f"verdict: exact ({total} records, each in the stream once and counted "
                    f"once, in its own window){ignored}")
        parts = []
        windows = len(self.window_differences)
        if windows:
            parts.append(f"{windows} window" + (" differs" if windows == 1 else "s differ"))
        absent = sum(len(u.not_in_stream) for u in self.unicorns)
        if absent:
            parts.append(f"{records_phrase(absent)} not in the stream")
        twice = sum(len(u.twice_in_stream) for u in self.unicorns)
        if twice:
            parts.append(f"{records_phrase(twice)} read twice from the stream")
        return f"verdict: NOT exact ({', '.join(parts)}){ignored}"

    def summary(self) -> str:
        """One line per unicorn and the verdict line.

        Example
        -------
        >>> print(Reconciliation([]).summary())
        verdict: nothing to reconcile: the ledger holds no records
        """
        return "\n".join([*(u.line() for u in self.unicorns), self.verdict()])

    def windows_report(self) -> str:
        """Each window that differs, and how; then what was read from the stream.

        Example
        -------
        >>> print(Reconciliation([]).windows_report())
        every window of every unicorn matches (0 windows)
        stream: 0 records read from 0 shards
        """
        lines = [w.report_line() for w in self.window_differences]
        for u in self.unicorns:
            lines += [f"{u.name}: record {key} is in the ledger but not in the stream"
                      for key in u.not_in_stream]
            lines += [f"{u.name}: record {key} was read from the stream more than once"
                      for key in u.twice_in_stream]
        if not lines:
            count = sum(len(u.windows) for u in self.unicorns)
            lines.append(f"every window of every unicorn matches ({count} windows)")
        if any(u.not_in_stream for u in self.unicorns):
            lines.append("(Kinesis keeps records 24 hours by default, and a stream deleted and "
                         "created again starts empty: a record older than that, or sent to the "
                         "old stream, cannot be found.)")
        shards = f"{self.shards} shard" + ("" if self.shards == 1 else "s")
        name = f"stream {self.stream}" if self.stream else "stream"
        ignored = (f"; {records_phrase(self.ignored)} of other runs (outside this run's "
                   "windows, or unreadable) ignored" if self.ignored else "")
        lines.append(f"{name}: {records_phrase(self.stream_read)} read from {shards}{ignored}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{self.summary()}\n{self.windows_report()}"


def rows_of_run(ledger: Ledger, table: pd.DataFrame) -> pd.DataFrame:
    """The table rows that can hold records of the ledger's run (its unicorns and windows).

    The windows here come from the producer's clock, a little after each arrival. ``reconcile``
    needs no such filter: give it the whole table, and it takes the run's windows (and one
    more on each side, to see a row written just outside them) from the stream's times.

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


def _ledger_keys(ledger: Ledger) -> dict[tuple[str, str], str]:
    """(shard id, sequence number) -> unicorn, for every record of the ledger."""
    keys: dict[tuple[str, str], str] = {}
    for name, u in ledger.unicorns.items():
        if sum(len(seqs) for seqs in u.sequences.values()) != u.records:
            where = f" {ledger.path}" if ledger.path else ""
            raise LedgerError(
                f"The producer ledger{where} does not list the sequence number of each record "
                "(an older version of the lab wrote it), so the records cannot be looked up in "
                "the stream. Run the producer again (start_producer() or `wildrydes produce`).")
        for shard, seqs in u.sequences.items():
            keys.update({(shard, seq): name for seq in seqs})
    return keys


def _table_windows(table: pd.DataFrame | None, names: set[str], lo: int, hi: int,
                   ) -> dict[tuple[str, int], tuple[int, float]]:
    """(name, window start) -> (records, distance) of the table's rows in scope."""
    out: dict[tuple[str, int], tuple[int, float]] = {}
    if table is None or len(table) == 0 or "windowStart" not in table:
        return out
    starts = pd.to_datetime(table["windowStart"], utc=True, errors="coerce")
    for name, start, records, distance in zip(table["name"], starts, table["records"],
                                              table["distance"], strict=True):
        if pd.isna(start) or str(name) not in names:
            continue
        key = (str(name), int(start.timestamp()))
        if not lo <= key[1] <= hi:
            continue  # another run's row: outside the windows of this run's records
        count, total = out.get(key, (0, 0.0))
        # A row without a number counts as 0, and then differs from what was expected.
        dist = 0.0 if pd.isna(distance) else float(distance)
        out[key] = (count + int(records), total + dist)
    return out


def compare(ledger: Ledger, records: Iterable[StreamRecord], table: pd.DataFrame | None,
            ) -> Reconciliation:
    """Check the ledger against the stream's records and the table's rows (pure: no I/O).

    ``records``: what the stream holds (``read_stream().records``); ``table``: the rows of
    ``query.windows()`` (name, windowStart, distance, records).

    Example
    -------
    >>> compare(Ledger(stream="s", window_seconds=60), [], pd.DataFrame()).exact
    False
    """
    w_s = ledger.window_seconds
    ours = _ledger_keys(ledger)
    copies: dict[tuple[str, str], list[StreamRecord]] = {}
    for rec in records:
        copies.setdefault((rec.shard_id, rec.sequence), []).append(rec)
    read = sum(len(c) for c in copies.values())
    decoded = {key: decode(c[0].data) for key, c in copies.items()}

    checks = {name: UnicornCheck(name, u.records, round(u.distance, 6), 0, 0, 0.0)
              for name, u in sorted(ledger.unicorns.items())}
    mine: set[tuple[str, str]] = set()
    for key, name in sorted(ours.items()):
        found = decoded.get(key) if key in copies else None
        # A record under this key that is another unicorn's belongs to another stream (one
        # deleted and created again reuses sequence numbers on the local cloud).
        if found is None or found[0] != name:
            checks[name].not_in_stream.append(f"{key[0]}/{key[1]}")
            continue
        mine.add(key)
        checks[name].stream_records += 1
        if len(copies[key]) > 1:
            checks[name].twice_in_stream.append(f"{key[0]}/{key[1]}")

    # This run's windows: from the first to the last window holding one of its records, and
    # one more on each side, so a row written just before or after the run is seen as extra.
    # Another run's records there are in the stream too: they count where the function put them.
    starts = [window_of(copies[k][0].arrival_ms, w_s) for k in mine]
    lo, hi = (min(starts) - w_s, max(starts) + w_s) if starts else (1, 0)
    expected: dict[tuple[str, int], Expected] = {}
    ignored = 0
    for key, found in decoded.items():
        rec = copies[key][0]
        start = window_of(rec.arrival_ms, w_s)
        if found is None or found[0] not in checks or not lo <= start <= hi:
            ignored += len(copies[key])
            continue
        window = expected.setdefault((found[0], start), Expected())
        window.add(rec.arrival_ms, rec.sequence, found[1])
        if key not in mine:
            checks[found[0]].shared += 1
    rows = _table_windows(table, set(checks), lo, hi)
    for name, check in checks.items():
        exp = {s: win for (n, s), win in expected.items() if n == name}
        got = {s: row for (n, s), row in rows.items() if n == name}
        check.table_records = sum(r for r, _ in got.values())
        check.table_distance = sum(d for _, d in got.values())
        check.windows = check_windows(name, w_s, exp, got, ROUNDING_PER_WINDOW_M)
    return Reconciliation(list(checks.values()), stream=ledger.stream,
                          shards=len({k[0] for k in copies}), stream_read=read, ignored=ignored)


def reconcile(ledger: Ledger, table: pd.DataFrame, *, session: LabSession | None = None,
              records: Iterable[StreamRecord] | None = None) -> Reconciliation:
    """Read the ledger's stream (unless ``records`` are given) and :func:`compare`.

    Example
    -------
    >>> reconcile(read_ledger(path), windows())      # doctest: +SKIP
    Shadowfax: 9 records sent, 9 in the stream, 9 in the table; ... -> exact
    verdict: exact (9 records, each in the stream once and counted once, in its own window)
    """
    calls: list[Any] = []
    if records is None:
        read = read_stream(ledger.stream, session=session)
        records, calls = read.records, read.calls
    result = compare(ledger, records, table)
    if calls:
        result.calls = calls
        result.shards = max(result.shards, len(read.shards))
    return result

