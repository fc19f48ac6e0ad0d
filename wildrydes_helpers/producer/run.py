"""Run the producer in this process: one record a second per unicorn, for a count or a time.

It keeps a ledger (ledger.py) of what Kinesis accepted, flushed to its file every second
and at the end, so a reader in another process sees the progress.

Example
-------
>>> default_duration(60)
200.0
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions

from ..config import Config, load_config
from ..errors import PrerequisiteError, WildRydesError, is_not_found
from ..lab_step import check_not_restarted, translate
from ..ledger import Ledger, default_ledger_path, write_ledger
from ..notebook_names import NB_MONITOR, NB_STREAM
from ..session import LabSession, get_session
from .send import BATCH_ABOVE_PER_S, MAX_ATTEMPTS, Sender
from .simulate import DEFAULT_NAME, UnicornSimulator, make_record

FLUSH_EVERY_S = 1.0


def default_duration(window_seconds: int) -> float:
    """How long the producer runs unless told: three whole windows and a bit.

    Example
    -------
    >>> default_duration(60)
    200.0
    """
    return float(3 * window_seconds + max(2, window_seconds // 3))


def next_window_start(now: float, window_seconds: int) -> float:
    """The start of the next tumbling window after ``now`` (windows are aligned to the epoch).

    Example
    -------
    >>> next_window_start(125.0, 60)
    180.0
    """
    return (math.floor(now / window_seconds) + 1) * float(window_seconds)


def validate_args(names: Sequence[str], rate: float, count: int | None,
                  duration: float | None) -> None:
    """Raise WildRydesError with one clear line for values the producer cannot use.

    Example
    -------
    >>> validate_args(["Shadowfax"], 1.0, 10, None)
    """
    if not names or any(not isinstance(n, str) or not n.strip() or len(n) > 256 for n in names):
        raise WildRydesError("Give each unicorn a name of 1 to 256 characters, e.g. Shadowfax.")
    if len(set(names)) != len(names):
        raise WildRydesError(f"Each unicorn name may appear once; got {list(names)}.")
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        raise WildRydesError(f"rate={rate!r}: records per second per unicorn must be above 0 "
                             "(the lab uses 1).")
    if rate * len(names) > 1000:
        raise WildRydesError(f"rate={rate} for {len(names)} unicorn(s) is more than one shard "
                             "takes (1000 records/s); lower it.")
    if count is not None and (not isinstance(count, int) or count <= 0):
        raise WildRydesError(f"count={count!r}: give a whole number of records above 0.")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise WildRydesError(f"duration={duration!r}: give a number of seconds above 0.")
    if count is not None and duration is not None:
        raise WildRydesError("Give count or duration, not both.")


@dataclass
class ProducerResult:
    """What one producer run sent: accepted per unicorn, given up, retries, time taken."""

    sent: dict[str, int]
    failed: int
    retries: int
    elapsed_s: float
    interrupted: bool
    ledger_path: str | None
    seed: int
    stream: str

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def __repr__(self) -> str:
        per = ", ".join(f"{n}: {c}" for n, c in self.sent.items())
        lost = (f"; {self.failed} record(s) given up after {MAX_ATTEMPTS} attempts"
                if self.failed else "")
        stop = " (stopped early)" if self.interrupted else ""
        return (f"producer{stop}: {self.total} records accepted by {self.stream} in "
                f"{self.elapsed_s:.1f} s ({per}){lost}; {self.retries} retries; seed {self.seed}")


def check_stream(kinesis: Any, stream: str) -> None:
    """Raise PrerequisiteError naming the notebook to run when ``stream`` does not exist.

    Example
    -------
    >>> check_stream(get_session().client("kinesis"), "wildrydes")   # doctest: +SKIP
    """
    try:
        kinesis.describe_stream_summary(StreamName=stream)
    except botocore.exceptions.ClientError as exc:
        if is_not_found(exc):
            raise PrerequisiteError(
                f"The Kinesis stream {stream} does not exist. Create it first: run "
                f"{NB_STREAM} (create_stream()), or pass the right name with --stream.") from None
        raise


def run_producer(names: Sequence[str] = (DEFAULT_NAME,), rate: float = 1.0,
                 count: int | None = None, duration: float | None = None,
                 seed: int | None = None, stream: str | None = None,
                 ledger_path: str | Path | None = None, progress: bool = False,
                 session: LabSession | None = None, kinesis: Any = None,
                 config: Config | None = None, stop_event: threading.Event | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 max_attempts: int = MAX_ATTEMPTS, align: bool = False) -> ProducerResult:
    """Run the producer in this process until ``count`` records per unicorn or ``duration``.

    Parameters
    ----------
    names : sequence of str
        The unicorns; each sends ``rate`` records a second, with its name as partition key.
    count, duration : optional
        Records per unicorn, or seconds; neither means three windows and a bit.
    seed : int, optional
        Makes every value reproducible; a random one is chosen (and reported) if omitted.
    kinesis : optional
        A Kinesis client to use instead of the session's (tests pass a fake one).
    align : bool
        Wait for the next window boundary before the first record, so the first window is a
        full one (and producers started together begin together).

    Example
    -------
    >>> run_producer(["Shadowfax"], count=5, seed=1)   # doctest: +SKIP
    producer: 5 records accepted by wildrydes in 4.0 s (Shadowfax: 5); 0 retries; seed 1
    """
    names = list(names)
    validate_args(names, rate, count, duration)
    lab = None
    if kinesis is None:
        lab = get_session(session, config)
        check_not_restarted(lab, NB_MONITOR)
        kinesis = lab.client("kinesis")
    cfg = config or (lab.config if lab is not None else load_config())
    stream = stream or cfg.stream_name
    try:
        return _run(names, rate, count, duration, seed, stream, ledger_path, progress, kinesis,
                    cfg, stop_event, clock, sleep, max_attempts, align)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        better = translate(exc, lab, NB_MONITOR, 0) if lab is not None else None
        if better is None:
            raise
        raise better from None


def _run(names: list[str], rate: float, count: int | None, duration: float | None,
         seed: int | None, stream: str, ledger_path: str | Path | None, progress: bool,
         kinesis: Any, cfg: Config, stop_event: threading.Event | None,
         clock: Callable[[], float], sleep: Callable[[float], None],
         max_attempts: int, align: bool = False) -> ProducerResult:
    from tqdm.auto import tqdm  # heavy: loaded only when a producer runs

    check_stream(kinesis, stream)
    if count is None:
        duration = default_duration(cfg.window_seconds) if duration is None else duration
        count = max(1, math.ceil(duration * rate))
    seed = random.randrange(2**31) if seed is None else seed
    sims = [UnicornSimulator(n, seed) for n in names]
    ledger = Ledger(stream=stream, window_seconds=cfg.window_seconds, seed=seed,
                    started_at=clock())
    path = Path(ledger_path) if ledger_path else default_ledger_path(cfg)
    write_ledger(ledger, path)
    sender = Sender(kinesis, stream, ledger, rate * len(names) > BATCH_ABOVE_PER_S,
                     clock, sleep, max_attempts)
    stop = stop_event or threading.Event()
    period = 1.0 / rate
    if align:
        boundary = next_window_start(clock(), cfg.window_seconds)
        while not stop.is_set() and (wait := boundary - clock()) > 0:
            sleep(min(wait, 0.25))
    bar = tqdm(total=count * len(names), desc=f"records to {stream}", unit="rec",
               disable=not progress)
    started = clock()
    last_flush = started
    interrupted = False
    try:
        for i in range(count):
            due = started + i * period
            while not stop.is_set() and (wait := due - clock()) > 0:
                sleep(min(wait, 0.25))
            if stop.is_set():
                interrupted = True
                break
            now = clock()
            sender.send([make_record(s.next_values(), now) for s in sims])
            bar.update(len(sims))
            if clock() - last_flush >= FLUSH_EVERY_S:
                write_ledger(ledger, path)
                last_flush = clock()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        ledger.failed = sender.failed
        ledger.finished = True
        write_ledger(ledger, path)
    return ProducerResult(
        sent={n: ledger.unicorns[n].records if n in ledger.unicorns else 0 for n in names},
        failed=sender.failed, retries=sender.retries, elapsed_s=clock() - started,
        interrupted=interrupted, ledger_path=str(path), seed=seed, stream=stream)
