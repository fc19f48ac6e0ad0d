"""One unicorn's windows, expected (from the stream) against the table: which differ, and how.

Pure: plain data in, no AWS call. A window is **missing** (expected, no row), **extra** (a row,
nothing expected), **moved** (the count and distance of the records nearest the boundary left
it for the neighbouring window: the pair is recognised and named once), or **different**
(another count, or a distance beyond the rounding). Used by reconciliation.py.

Example
-------
>>> exp = {0: Expected()}
>>> exp[0].add(500, "1", 30.4)
>>> [c.kind for c in check_windows("a", 60, exp, {0: (1, 30.0)}, 0.5)]
['ok']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .ledger import window_start

# The function stores whole metres, rounded half up: a window's distance is off by <= 0.5 m.
ROUNDING_PER_WINDOW_M = 0.5
# Float sums of whole metres against decimal sums: a hair of slack on the rounding bound.
_EPS = 1e-6


def iso(start: int) -> str:
    """A window start (epoch seconds) as Lambda writes it in the table.

    Example
    -------
    >>> iso(60)
    '1970-01-01T00:01:00Z'
    """
    return window_start(start, 1)


def records_phrase(count: int) -> str:
    """``1 record``, ``2 records``.

    Example
    -------
    >>> records_phrase(1), records_phrase(2)
    ('1 record', '2 records')
    """
    return f"{count} record" + ("" if count == 1 else "s")


def _seq_order(sequence: str) -> tuple[int, str]:
    # Sequence numbers are decimal strings of varying length: order them as numbers.
    return (len(sequence), sequence)


@dataclass
class Expected:
    """A window's records as the function should have summed them (from the stream)."""

    records: int = 0
    distance: Decimal = Decimal(0)
    # (arrival ms, sequence, distance) of each record, to tell which ones a move would take.
    members: list[tuple[int, str, float]] = field(default_factory=list)

    def add(self, arrival_ms: int, sequence: str, distance: float) -> None:
        """Count one record, summing in decimal as the function does.

        Example
        -------
        >>> e = Expected(); e.add(1, "1", 0.1); e.add(2, "2", 0.2); e.distance
        Decimal('0.3')
        """
        self.records += 1
        self.distance += Decimal(repr(distance))
        self.members.append((arrival_ms, sequence, distance))

    def edge(self, count: int, last: bool) -> Decimal | None:
        """The distance of the ``count`` records nearest the end (``last``) or the start."""
        if count > len(self.members):
            return None
        ordered = sorted(self.members, key=lambda m: (m[0], _seq_order(m[1])))
        chosen = ordered[-count:] if last else ordered[:count]
        return sum((Decimal(repr(m[2])) for m in chosen), Decimal(0))


@dataclass
class WindowCheck:
    """One window of one unicorn: expected and table values, and the kind of difference."""

    name: str
    start: int  # epoch seconds
    window_seconds: int
    expected_records: int
    expected_distance: float
    table_records: int | None  # None: the table has no row for this window
    table_distance: float | None
    kind: str = "ok"  # ok, missing, extra, moved or different
    partner: int | None = None  # a move's other window
    moved_records: int = 0  # > 0: left this window; < 0: arrived in it
    moved_distance: float = 0.0

    @property
    def window(self) -> str:
        return iso(self.start)

    def problem(self) -> str:
        """A short phrase for the summary.

        Example
        -------
        >>> WindowCheck("a", 0, 60, 2, 61.2, None, None, "missing").problem()
        'window 1970-01-01T00:00:00Z missing (2 records, 61.200 m expected)'
        """
        if self.kind == "moved":
            src, dst = ((self.start, self.partner) if self.moved_records > 0
                        else (self.partner, self.start))
            return (f"{records_phrase(abs(self.moved_records))} ({self.moved_distance:.3f} m) "
                    f"moved from window {iso(src)} to {iso(dst or 0)}")
        if self.kind == "missing":
            return (f"window {self.window} missing ({records_phrase(self.expected_records)}, "
                    f"{self.expected_distance:.3f} m expected)")
        if self.kind == "extra":
            return (f"window {self.window} extra ({records_phrase(self.table_records or 0)}, "
                    f"{self.table_distance or 0:.0f} m in the table, nothing expected)")
        if self.kind == "different":
            return f"window {self.window} differs ({self._numbers()})"
        return f"window {self.window} matches"

    def _numbers(self) -> str:
        what = []
        if self.table_records != self.expected_records:
            what.append(f"{self.table_records} records in the table, "
                        f"{self.expected_records} expected")
        diff = (self.table_distance or 0.0) - self.expected_distance
        if abs(diff) > ROUNDING_PER_WINDOW_M + _EPS:
            what.append(f"distance {self.table_distance or 0:.0f} m in the table, "
                        f"{self.expected_distance:.3f} m expected")
        return "; ".join(what)

    def report_line(self) -> str:
        """The per-window report's line: both sides' numbers, then what differs.

        Example
        -------
        >>> WindowCheck("a", 0, 60, 1, 30.2, 1, 30.0).report_line()
        'a 1970-01-01T00:00:00Z: expected 1 record, 30.200 m; table 1 record, 30 m -> ok'
        """
        table = ("no row" if self.table_records is None else
                 f"{records_phrase(self.table_records)}, {self.table_distance or 0:.0f} m")
        how = {"ok": "ok", "missing": "missing", "extra": "extra"}.get(self.kind)
        if self.kind == "moved":
            moved = (f"{records_phrase(abs(self.moved_records))} "
                     f"({self.moved_distance:.3f} m)")
            how = (f"moved: {moved} of this window counted in {iso(self.partner or 0)}"
                   if self.moved_records > 0 else
                   f"moved: {moved} of {iso(self.partner or 0)} counted here")
        elif self.kind == "different":
            how = "different: " + self._numbers()
        return (f"{self.name} {self.window}: expected {records_phrase(self.expected_records)}, "
                f"{self.expected_distance:.3f} m; table {table} -> {how}")


def _kind(exp: Expected | None, row: tuple[int, float] | None, tolerance: float) -> str:
    if row is None:
        return "missing"
    if exp is None:
        return "extra"
    if row[0] != exp.records or abs(row[1] - float(exp.distance)) > tolerance + _EPS:
        return "different"
    return "ok"


def _close(table: float | None, expected: Decimal, tolerance: float) -> bool:
    return abs(Decimal(repr(table or 0.0)) - expected) <= Decimal(repr(tolerance + _EPS))


def _pair_move(a: WindowCheck, b: WindowCheck, exp: dict[int, Expected],
               tolerance: float) -> bool:
    """Mark ``a`` and the next window ``b`` as a move if one's loss is the other's gain.

    The records that moved must be those at the edge between the two windows, and each
    table row must then equal, within the rounding, its expected value minus (or plus) them.
    """
    gain_a = (a.table_records or 0) - a.expected_records
    gain_b = (b.table_records or 0) - b.expected_records
    if gain_a == 0 or gain_a != -gain_b:
        return False
    src, dst = (a, b) if gain_a < 0 else (b, a)
    count = abs(gain_a)
    source = exp.get(src.start)
    moved = source.edge(count, last=src is a) if source is not None else None
    if source is None or moved is None:
        return False
    dst_exp = exp[dst.start].distance if dst.start in exp else Decimal(0)
    if not (_close(src.table_distance, source.distance - moved, tolerance)
            and _close(dst.table_distance, dst_exp + moved, tolerance)):
        return False
    for check, sign, other in ((src, 1, dst), (dst, -1, src)):
        check.kind, check.partner = "moved", other.start
        check.moved_records, check.moved_distance = sign * count, float(moved)
    return True


def check_windows(name: str, window_seconds: int, expected: dict[int, Expected],
                  table: dict[int, tuple[int, float]], tolerance: float) -> list[WindowCheck]:
    """Every window of ``name`` that is expected or in the table, checked and classified.

    ``expected``: window start -> Expected; ``table``: window start -> (records, distance).

    Example
    -------
    >>> [c.kind for c in check_windows("a", 60, {}, {0: (1, 30.0)}, 0.5)]
    ['extra']
    """
    checks = []
    for start in sorted(set(expected) | set(table)):
        exp, row = expected.get(start), table.get(start)
        checks.append(WindowCheck(
            name, start, window_seconds,
            exp.records if exp else 0, float(exp.distance) if exp else 0.0,
            row[0] if row else None, row[1] if row else None, _kind(exp, row, tolerance)))
    for a, b in zip(checks, checks[1:], strict=False):
        if (a.kind != "ok" and b.kind != "ok" and "moved" not in (a.kind, b.kind)
                and b.start - a.start == window_seconds):
            _pair_move(a, b, expected, tolerance)
    return checks
