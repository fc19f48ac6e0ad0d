"""What the lab's pipeline does with the producer's records, worked out on paper (pure).

00's window picture is drawn from this model: the producer's own simulator (same names,
seed, one record a second per unicorn) gives the records; Lambda reads the shard about once
a second, so each batch holds the records of one poll interval of one window; every batch
call gets the state the previous call returned, and the window's final call gets the last
state and writes it, in whole metres, to the table. The sums are the ones 05's chart shows
for a producer run with the same seed that starts at a window boundary.

Example
-------
>>> arrivals = producer_arrivals(["Shadowfax"], seed=42, count=4)
>>> [round(m, 1) for _, _, m in arrivals]
[30.1, 30.3, 29.1, 30.7]
>>> calls = window_calls(arrivals, window_seconds=2)
>>> [(c.window, c.kind, c.records) for c in calls][:3]
[(0, 'batch', 1), (0, 'batch', 1), (0, 'final', 0)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .producer.simulate import UnicornSimulator

# The lab's demo run (04_monitor and 05_query): these unicorns, this seed, one record a second.
LAB_UNICORNS: tuple[str, ...] = ("Shadowfax", "Rocinante")
LAB_SEED = 42
LAB_RATE = 1.0
# Lambda polls each shard once a second when it has caught up (AWS's Kinesis page).
POLL_SECONDS = 1.0
# simulate.py draws each record's metres uniformly from [29, 31]: 30 m a record on average.
MEAN_METRES_PER_RECORD = 30.0

Arrival = tuple[str, float, float]  # (unicorn, second it reaches the stream, metres)
State = dict[str, tuple[float, int]]  # unicorn -> (distance, records), as the function keeps it


def producer_arrivals(names: Sequence[str] = LAB_UNICORNS, seed: int = LAB_SEED,
                      count: int = 180, rate: float = LAB_RATE,
                      start_s: float = 0.0) -> list[Arrival]:
    """The producer's records as (unicorn, second, metres), from its own simulator.

    Record ``i`` of every unicorn is sent at ``start_s + i / rate``, as ``run_producer`` does;
    the metres are the producer's, so the same seed gives the same numbers as a real run.

    Example
    -------
    >>> producer_arrivals(["Shadowfax", "Rocinante"], seed=42, count=1)
    [('Shadowfax', 0.0, 30.063), ('Rocinante', 0.0, 29.0)]
    """
    sims = [UnicornSimulator(n, seed) for n in names]
    out: list[Arrival] = []
    for i in range(count):
        second = round(start_s + i / rate, 6)
        out += [(s.name, second, float(s.next_values()["Distance"])) for s in sims]
    return out


def add_metres(a: float, b: float) -> float:
    """Add two distances in decimal, exactly as the function's ``add`` does.

    Example
    -------
    >>> add_metres(0.1, 0.2)
    0.3
    """
    return float(Decimal(repr(a)) + Decimal(repr(b)))


def whole_metres(distance: float) -> int:
    """Whole metres, halves up: what the function writes to the table and 05 plots.

    Example
    -------
    >>> whole_metres(12.5), whole_metres(12.49)
    (13, 12)
    """
    return int(Decimal(repr(distance)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def window_of(second: float, window_seconds: int) -> int:
    """The index of the tumbling window a second falls in: start included, end excluded.

    Example
    -------
    >>> window_of(59.999, 60), window_of(60.0, 60)
    (0, 1)
    """
    return math.floor(second / window_seconds)


def window_totals(arrivals: Sequence[Arrival],
                  window_seconds: int) -> dict[tuple[int, str], float]:
    """Sum metres per (window index, unicorn): what the function computes.

    Example
    -------
    >>> window_totals([("A", 1.0, 30.0), ("A", 61.0, 29.0)], 60)
    {(0, 'A'): 30.0, (1, 'A'): 29.0}
    """
    totals: dict[tuple[int, str], float] = {}
    for name, second, metres in arrivals:
        key = (window_of(second, window_seconds), name)
        totals[key] = add_metres(totals.get(key, 0.0), metres)
    return totals


@dataclass(frozen=True)
class Call:
    """One invocation of the function: its window, kind, time and the state in and out."""

    window: int
    kind: str  # "batch" or "final"
    second: float
    added: dict[str, tuple[float, int]] = field(default_factory=dict)  # this batch's records
    state_in: State = field(default_factory=dict)
    state_out: State = field(default_factory=dict)

    @property
    def records(self) -> int:
        """How many records the call carried (0 for the final call)."""
        return sum(n for _, n in self.added.values())


def window_calls(arrivals: Sequence[Arrival], window_seconds: int,
                 poll_seconds: float = POLL_SECONDS) -> list[Call]:
    """The invocations Lambda makes for ``arrivals``: batches, then one final call per window.

    A batch holds the records of one poll interval of one window (a batch never spans two
    windows); each call gets the state the previous call of its window returned, the first
    gets ``{}``; the final call comes at the window's end with no records and the last state.

    Example
    -------
    >>> calls = window_calls([("A", 0.0, 30.0), ("A", 1.0, 29.5)], window_seconds=60)
    >>> [(c.kind, c.state_in, c.state_out) for c in calls]
    [('batch', {}, {'A': (30.0, 1)}), ('batch', {'A': (30.0, 1)}, {'A': (59.5, 2)}), \
('final', {'A': (59.5, 2)}, {'A': (59.5, 2)})]
    """
    batches: dict[tuple[int, int], list[Arrival]] = {}
    for arrival in sorted(arrivals, key=lambda a: a[1]):
        w = window_of(arrival[1], window_seconds)
        batches.setdefault((w, math.floor(arrival[1] / poll_seconds)), []).append(arrival)
    calls: list[Call] = []
    state: State = {}
    current: int | None = None
    for (w, _poll), records in sorted(batches.items()):
        if current is not None and w != current:
            calls.append(_final(current, window_seconds, state))
            state = {}
        current = w
        added: dict[str, tuple[float, int]] = {}
        for name, _, metres in records:
            d, n = added.get(name, (0.0, 0))
            added[name] = (add_metres(d, metres), n + 1)
        new = dict(state)
        for name, (d, n) in added.items():
            old_d, old_n = new.get(name, (0.0, 0))
            new[name] = (add_metres(old_d, d), old_n + n)
        # Lambda invokes once the poll after these records' arrival has read them.
        calls.append(Call(w, "batch", max(a[1] for a in records), added, dict(state), new))
        state = new
    if current is not None:
        calls.append(_final(current, window_seconds, state))
    return calls


def _final(window: int, window_seconds: int, state: State) -> Call:
    return Call(window, "final", float((window + 1) * window_seconds), {}, dict(state),
                dict(state))
