"""Waiting: for a resource to settle, and for the aggregation to catch up with the producer.

Example
-------
>>> poll_until(lambda: 42, timeout=1.0)
42
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import WildRydesError
from .lab_step import lab_step
from .ledger import Ledger, default_ledger_path, read_ledger
from .notebook_names import NB_MONITOR, NB_QUERY
from .session import LabSession

T = TypeVar("T")


def poll_until(check: Callable[[], T | None], timeout: float, interval: float = 0.2,
               what: str = "the resource", max_interval: float = 5.0,
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``check`` until it returns something other than None/False, with backoff.

    Raises WildRydesError naming ``what`` when ``timeout`` seconds pass.

    Example
    -------
    >>> poll_until(lambda: "ready", timeout=1.0)
    'ready'
    """
    deadline = clock() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if clock() >= deadline:
            raise WildRydesError(f"Gave up waiting for {what} after {timeout:.0f} s. "
                                 "Run the step again; if it keeps happening, check the console.")
        sleep(interval)
        interval = min(interval * 1.5, max_interval)


@dataclass
class WaitResult:
    """How far the table got: per unicorn the records expected and found.

    Example
    -------
    >>> WaitResult(True, {"Shadowfax": 3}, {"Shadowfax": 3}, 1.5).message
    'All 3 records are in the table (1.5 s).'
    """

    complete: bool
    expected: dict[str, int]
    found: dict[str, int]
    elapsed_s: float
    calls: list[Any] = field(default_factory=list)

    @property
    def missing(self) -> dict[str, int]:
        return {n: e - self.found.get(n, 0) for n, e in self.expected.items()
                if self.found.get(n, 0) != e}

    @property
    def message(self) -> str:
        total = sum(self.expected.values())
        if self.complete:
            return f"All {total} records are in the table ({self.elapsed_s:.1f} s)."
        parts = ", ".join(f"{n}: {self.found.get(n, 0)} of {e}"
                          for n, e in sorted(self.expected.items()) if n in self.missing)
        return (f"Timed out after {self.elapsed_s:.0f} s; still missing ({parts}). The last "
                "window is written shortly after it ends: wait a little and query again, or "
                f"look at the function's logs ({NB_MONITOR}).")

    def __repr__(self) -> str:
        return self.message


def table_totals(df: Any, ledger: Ledger | None = None) -> dict[str, int]:
    """Records per unicorn in the table rows ``df`` (only windows of the ledger's run).

    Example
    -------
    >>> import pandas as pd
    >>> table_totals(pd.DataFrame({"name": ["a", "a"], "records": [2, 3]}))
    {'a': 5}
    """
    if df is None or len(df) == 0:
        return {}
    if ledger is not None:
        from .reconciliation import rows_of_run  # pandas is heavy: only when rows are given

        df = rows_of_run(ledger, df)
    return {str(k): int(v) for k, v in df.groupby("name")["records"].sum().items()}


@lab_step(NB_QUERY)
def wait_for_windows(expected: dict[str, int] | None = None, timeout: float | None = None,
                     ledger: Ledger | str | Path | None = None, poll_s: float = 1.0,
                     progress: bool = True, *,
                     session: LabSession | None = None) -> WaitResult:
    """Block until the table holds every record the producer sent, or ``timeout`` passes.

    Parameters
    ----------
    expected : dict, optional
        Records per unicorn to wait for; by default the ledger's totals.
    timeout : float, optional
        Seconds; by default two windows plus 30 s after the ledger's last record.
    ledger : Ledger or path, optional
        The producer's ledger (default ``<home>/ledger.json``).

    Example
    -------
    >>> wait_for_windows(timeout=180)    # doctest: +SKIP
    All 360 records are in the table (64.2 s).
    """
    # tqdm and pandas (under query) are heavy: step modules import waiting for poll_until.
    from tqdm.auto import tqdm

    from .query import windows

    assert session is not None
    led: Ledger | None = None
    ledger_path: Path | None = None
    if isinstance(ledger, Ledger):
        led = ledger
    elif expected is None or ledger is not None:
        ledger_path = Path(ledger) if ledger else default_ledger_path(session.config)
        led = read_ledger(ledger_path)
    # While the producer still runs, its ledger grows: keep re-reading it, or the wait would
    # end as soon as the records sent so far are in, before the last windows are written.
    follow = expected is None and ledger_path is not None and led is not None \
        and not led.finished
    if expected is None:
        assert led is not None
        expected = {n: u.records for n, u in led.unicorns.items()}
    if timeout is None:
        timeout = 2 * session.config.window_seconds + 30.0
    total = sum(expected.values())
    start = time.monotonic()
    found: dict[str, int] = {}
    bar = tqdm(total=total, desc="records in the table", unit="rec", disable=not progress)
    try:
        while True:
            if follow and ledger_path is not None:
                led = read_ledger(ledger_path)
                expected = {n: u.records for n, u in led.unicorns.items()}
                follow = not led.finished
                total = sum(expected.values())
                bar.total = total
            found = table_totals(windows(session=session), led)
            done = sum(min(found.get(n, 0), e) for n, e in expected.items())
            bar.update(done - bar.n)
            if all(found.get(n, 0) == e for n, e in expected.items()):
                return WaitResult(True, dict(expected), found, time.monotonic() - start)
            if time.monotonic() - start >= timeout:
                return WaitResult(False, dict(expected), found, time.monotonic() - start)
            time.sleep(poll_s)
    finally:
        bar.close()
