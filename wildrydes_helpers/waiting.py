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

from .errors import PrerequisiteError, WildRydesError
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


LOGS_TIMEOUT_S = 180.0


@dataclass
class LogWaitResult:
    """How far CloudWatch Logs got: per unicorn, the records expected and the records the
    function's ``Final:`` lines and batch calls (``Adding:`` lines) show so far.

    Example
    -------
    >>> LogWaitResult(True, {"a": 3}, {"a": 3}, {"a": 3}, 0.5).message
    "The function's logs of this run are all visible: 3 records in its Final: lines (0.5 s)."
    """

    complete: bool
    expected: dict[str, int]
    in_finals: dict[str, int]
    in_batches: dict[str, int]
    elapsed_s: float
    calls: list[Any] = field(default_factory=list)

    def _missing(self) -> list[str]:
        out = []
        for name, want in sorted(self.expected.items()):
            fin, bat = self.in_finals.get(name, 0), self.in_batches.get(name, 0)
            if fin < want or bat < want:
                out.append(f"{name}: {fin} of {want} in Final: lines, {bat} of {want} in "
                           "batch calls")
        return out

    @property
    def message(self) -> str:
        total = sum(self.expected.values())
        if self.complete:
            return (f"The function's logs of this run are all visible: {total} records in its "
                    f"Final: lines ({self.elapsed_s:.1f} s).")
        return (f"CloudWatch Logs does not show all of this run yet after {self.elapsed_s:.0f} s "
                f"({'; '.join(self._missing())}). Log events reach CloudWatch Logs some "
                "seconds after the function writes them: run this cell again in a minute. "
                "The checks below would count only what is visible now.")

    def __repr__(self) -> str:
        return self.message


def _records_in_logs(df: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Records per unicorn in the Final: lines (one per window, shard and unicorn: a final
    logged twice counts once) and in the batch calls' Adding: lines."""
    from .monitor import finals_from_logs, parse_line

    finals = finals_from_logs(df)
    in_finals: dict[str, int] = {}
    if len(finals):
        last = finals.drop_duplicates(["shardId", "windowStart", "name"], keep="last")
        in_finals = {str(k): int(v) for k, v in last.groupby("name")["records"].sum().items()}
    in_batches: dict[str, int] = {}
    for message in df["message"]:
        parsed = parse_line(str(message))
        if parsed and parsed[0] == "Adding":
            for name, totals in _adding(parsed[1]).items():
                in_batches[name] = in_batches.get(name, 0) + totals
    return in_finals, in_batches


def _adding(obj: dict[str, Any]) -> dict[str, int]:
    """``Adding: {"name": ..., "records": n, ...}`` as {name: n} (nothing if malformed)."""
    name, records = obj.get("name"), obj.get("records")
    if isinstance(name, str) and isinstance(records, int | float):
        return {name: int(records)}
    return {}


@lab_step(NB_MONITOR)
def wait_for_logs(since: Any = None, expected: dict[str, int] | None = None,
                  ledger: Ledger | str | Path | None = None, timeout: float = LOGS_TIMEOUT_S,
                  poll_s: float = 2.0, progress: bool = True, *,
                  session: LabSession | None = None,
                  clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> LogWaitResult:
    """Wait (at most ``timeout`` s, with a progress bar) until CloudWatch Logs shows every
    record of this run in the function's ``Final:`` lines and batch calls; 04 checks the
    logs only then. Never raises on timeout: the result says what is still missing.

    Parameters
    ----------
    since : datetime, timedelta or epoch seconds, optional
        Only log events from then on; by default the ledger's start.
    expected : dict, optional
        Records per unicorn; by default the ledger's totals.
    ledger : Ledger or path, optional
        The producer's ledger (default ``<home>/ledger.json``).

    Example
    -------
    >>> wait_for_logs()    # doctest: +SKIP
    The function's logs of this run are all visible: 360 records in its Final: lines (0.3 s).
    """
    from tqdm.auto import tqdm  # heavy: only when waiting

    from .monitor import log_events

    assert session is not None
    led: Ledger | None = ledger if isinstance(ledger, Ledger) else None
    if led is None and (expected is None or since is None):
        led = read_ledger(Path(ledger) if ledger else default_ledger_path(session.config))
    if expected is None:
        assert led is not None
        expected = {n: u.records for n, u in led.unicorns.items()}
    if since is None:
        assert led is not None
        since = led.started_at
    total = sum(expected.values())
    start = clock()
    in_finals: dict[str, int] = {}
    in_batches: dict[str, int] = {}
    bar = tqdm(total=total, desc="records visible in the logs", unit="rec",
               disable=not progress)
    try:
        while True:
            try:
                df = log_events(since=since, session=session)
            except PrerequisiteError:  # no log group yet: nothing is visible so far
                df = None
            if df is not None:
                in_finals, in_batches = _records_in_logs(df)
            seen = sum(min(in_finals.get(n, 0), in_batches.get(n, 0), e)
                       for n, e in expected.items())
            bar.update(seen - bar.n)
            done = all(in_finals.get(n, 0) >= e and in_batches.get(n, 0) >= e
                       for n, e in expected.items())
            elapsed = clock() - start
            if done or elapsed >= timeout:
                return LogWaitResult(done, dict(expected), in_finals, in_batches, elapsed)
            sleep(poll_s)
    finally:
        bar.close()
