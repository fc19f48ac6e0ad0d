"""The unicorn producer: one JSON record a second per unicorn into the lab's Kinesis stream.

A port of the Wild Rydes workshop producer. Each record is
``{Name, StatusTime, Latitude, Longitude, Distance, MagicPoints, HealthPoints}`` with the
unicorn's name as partition key. With a seed, every value except StatusTime (the send time)
depends only on the seed, the name and the record's index, never on timing.

It keeps a ledger (ledger.py) of what Kinesis accepted. Throttled or failed records are
retried with backoff; a record given up on is counted and reported, never dropped silently.

From a notebook, ``start_producer()`` runs it as a process of its own (it outlives the
kernel), ``producer_status()`` reports progress from the ledger and ``stop_producer()`` stops
it. ``run_producer()`` runs it in the calling process (tests and the CLI).

Example
-------
>>> sim = UnicornSimulator("Shadowfax", seed=7)
>>> sorted(sim.next_values())
['Distance', 'HealthPoints', 'Latitude', 'Longitude', 'MagicPoints', 'Name']
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.exceptions

from .config import Config, load_config
from .errors import PrerequisiteError, WildRydesError
from .ledger import Ledger, default_ledger_path, read_ledger, write_ledger
from .session import LabSession, get_session
from .statefile import read_state, write_state
from .steps import (
    NB_MONITOR,
    NB_STREAM,
    StepResult,
    check_not_restarted,
    error_code,
    translate,
)

DEFAULT_NAME = "Shadowfax"
BATCH_ABOVE_PER_S = 5.0  # above this many records a second, send with PutRecords
MAX_BATCH = 500  # PutRecords' limit
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.05
BACKOFF_MAX_S = 2.0
FLUSH_EVERY_S = 1.0
RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException",
             "LimitExceededException", "InternalFailure", "ServiceUnavailable",
             "KMSThrottlingException"}
# Start near Seattle; each unicorn gets its own corner of the map from its name and seed.
HOME_LAT, HOME_LON = 47.6062, -122.3321


def default_duration(window_seconds: int) -> float:
    """How long the producer runs unless told: three whole windows and a bit.

    Example
    -------
    >>> default_duration(60)
    200.0
    """
    return float(3 * window_seconds + max(2, window_seconds // 3))


def status_time(t: float) -> str:
    """The producer's StatusTime format, ``YYYY-MM-DD HH:MM:SS.mmm`` in UTC.

    Example
    -------
    >>> status_time(0.25)
    '1970-01-01 00:00:00.250'
    """
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class UnicornSimulator:
    """One unicorn's sensor values: a reproducible random walk per (seed, name).

    Example
    -------
    >>> a, b = UnicornSimulator("Bucephalus", 1), UnicornSimulator("Bucephalus", 1)
    >>> [a.next_values() for _ in range(3)] == [b.next_values() for _ in range(3)]
    True
    """

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.index = 0
        self._rng = random.Random(f"{seed}:{name}")
        self.latitude = HOME_LAT + self._rng.uniform(-0.05, 0.05)
        self.longitude = HOME_LON + self._rng.uniform(-0.05, 0.05)
        self.magic = 150
        self.health = 150

    def next_values(self) -> dict[str, Any]:
        """The next record's values (everything but StatusTime)."""
        rng = self._rng
        distance = round(rng.uniform(29.0, 31.0), 3)
        heading = rng.uniform(0.0, 2 * math.pi)
        # About 111 km per degree of latitude: move ``distance`` metres along ``heading``.
        self.latitude += distance * math.cos(heading) / 111_000
        self.longitude += distance * math.sin(heading) / (
            111_000 * math.cos(math.radians(self.latitude)))
        self.magic += rng.choice((-1, 0, 1))
        self.health += rng.choice((-1, 0, 1))
        self.index += 1
        return {"Name": self.name, "Latitude": round(self.latitude, 6),
                "Longitude": round(self.longitude, 6), "Distance": distance,
                "MagicPoints": self.magic, "HealthPoints": self.health}


def make_record(values: dict[str, Any], t: float) -> dict[str, Any]:
    """A record in the workshop's field order, with StatusTime from epoch time ``t``.

    Example
    -------
    >>> list(make_record({"Name": "x", "Distance": 30.0}, 0.0))
    ['Name', 'StatusTime', 'Distance']
    """
    out = {"Name": values["Name"], "StatusTime": status_time(t)}
    out.update({k: v for k, v in values.items() if k != "Name"})
    return out


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


class _Sender:
    """Puts records with retries, and books every accepted one in the ledger."""

    def __init__(self, kinesis: Any, stream: str, ledger: Ledger, batch: bool,
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 max_attempts: int) -> None:
        self.kinesis, self.stream, self.ledger, self.batch = kinesis, stream, ledger, batch
        self.clock, self.sleep, self.max_attempts = clock, sleep, max_attempts
        self.failed = 0
        self.retries = 0

    def _backoff(self, attempt: int) -> None:
        self.retries += 1
        self.sleep(min(BACKOFF_BASE_S * 2 ** attempt, BACKOFF_MAX_S))

    def send(self, records: list[dict[str, Any]]) -> None:
        if self.batch:
            for i in range(0, len(records), MAX_BATCH):
                self._put_records(records[i:i + MAX_BATCH])
        else:
            for rec in records:
                self._put_record(rec)

    def _accept(self, rec: dict[str, Any], sequence: str, shard: str) -> None:
        self.ledger.add(rec["Name"], float(rec["Distance"]), sequence, shard, self.clock())

    def _put_record(self, rec: dict[str, Any]) -> None:
        data = json.dumps(rec).encode()
        for attempt in range(self.max_attempts):
            try:
                resp = self.kinesis.put_record(StreamName=self.stream, Data=data,
                                               PartitionKey=rec["Name"])
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) not in RETRYABLE:
                    raise
                if attempt + 1 < self.max_attempts:
                    self._backoff(attempt)
                continue
            self._accept(rec, resp["SequenceNumber"], resp["ShardId"])
            return
        self.failed += 1

    def _put_records(self, recs: list[dict[str, Any]]) -> None:
        pending = recs
        for attempt in range(self.max_attempts):
            entries = [{"Data": json.dumps(r).encode(), "PartitionKey": r["Name"]}
                       for r in pending]
            try:
                resp = self.kinesis.put_records(StreamName=self.stream, Records=entries)
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) not in RETRYABLE:
                    raise
                if attempt + 1 < self.max_attempts:
                    self._backoff(attempt)
                continue
            again = []
            for rec, result in zip(pending, resp["Records"], strict=True):
                if result.get("SequenceNumber") and not result.get("ErrorCode"):
                    self._accept(rec, result["SequenceNumber"], result["ShardId"])
                else:
                    again.append(rec)
            pending = again
            if not pending:
                return
            if attempt + 1 < self.max_attempts:
                self._backoff(attempt)
        self.failed += len(pending)


def _check_stream(kinesis: Any, stream: str) -> None:
    try:
        kinesis.describe_stream_summary(StreamName=stream)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
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
    from tqdm.auto import tqdm

    _check_stream(kinesis, stream)
    if count is None:
        duration = default_duration(cfg.window_seconds) if duration is None else duration
        count = max(1, math.ceil(duration * rate))
    seed = random.randrange(2**31) if seed is None else seed
    sims = [UnicornSimulator(n, seed) for n in names]
    ledger = Ledger(stream=stream, window_seconds=cfg.window_seconds, seed=seed,
                    started_at=clock())
    path = Path(ledger_path) if ledger_path else default_ledger_path(cfg)
    write_ledger(ledger, path)
    sender = _Sender(kinesis, stream, ledger, rate * len(names) > BATCH_ABOVE_PER_S,
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


def next_window_start(now: float, window_seconds: int) -> float:
    """The start of the next tumbling window after ``now`` (windows are aligned to the epoch).

    Example
    -------
    >>> next_window_start(125.0, 60)
    180.0
    """
    return (math.floor(now / window_seconds) + 1) * float(window_seconds)


# --- the producer as a process of its own ------------------------------------------------

_children: dict[int, subprocess.Popen[bytes]] = {}


def state_path(cfg: Config) -> Path:
    """Where the background producer's pid, arguments and ledger path are kept."""
    return cfg.home / "producer.json"


def _read_state(cfg: Config) -> dict[str, Any] | None:
    return read_state(state_path(cfg))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        pass
    try:  # macOS has no /proc
        out = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True,
                             text=True, timeout=5, check=False)
        return out.stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _is_alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours
    try:  # a stopped child of another kernel stays a zombie until that kernel reaps it
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_ours(pid: int) -> bool:
    """True if ``pid`` runs this lab's producer (a recycled pid must never be signalled)."""
    if pid in _children:
        return _children[pid].poll() is None
    line = _cmdline(pid)
    return _is_alive(pid) and "wildrydes_helpers" in line and " produce" in line


def _child_env(cfg: Config) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "WILDRYDES_BACKEND": cfg.backend, "WILDRYDES_PREFIX": cfg.prefix,
        "WILDRYDES_WINDOW_SECONDS": str(cfg.window_seconds),
        "WILDRYDES_LOCAL_PORT": str(cfg.local_port), "WILDRYDES_HOME": str(cfg.home),
        "AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region,
        "PYTHONUNBUFFERED": "1",
    })
    return env


@dataclass
class ProducerStatus:
    """The background producer: running or not, and what the ledger says it sent."""

    running: bool
    pid: int | None = None
    args: list[str] = field(default_factory=list)
    ledger_path: str | None = None
    sent: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    finished: bool = False
    calls: list[Any] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def __repr__(self) -> str:
        if self.pid is None:
            return "producer: none started yet (start_producer())"
        state = "running" if self.running else ("finished" if self.finished else "stopped")
        per = ", ".join(f"{n}: {c}" for n, c in sorted(self.sent.items())) or "nothing yet"
        lost = f"; {self.failed} given up" if self.failed else ""
        return f"producer {state} (pid {self.pid}): {self.total} records sent ({per}){lost}"


def producer_status(session: LabSession | None = None,
                    config: Config | None = None) -> ProducerStatus:
    """Is the background producer running, and how many records has Kinesis accepted?

    Example
    -------
    >>> producer_status()   # doctest: +SKIP
    producer running (pid 4321): 42 records sent (Shadowfax: 42)
    """
    cfg = config or (session.config if session is not None else load_config())
    state = _read_state(cfg)
    if state is None:
        return ProducerStatus(running=False)
    pid = int(state.get("pid", 0))
    status = ProducerStatus(running=pid > 0 and _is_ours(pid), pid=pid,
                            args=list(state.get("args", [])), ledger_path=state.get("ledger"))
    with contextlib.suppress(WildRydesError):
        if status.ledger_path and Path(status.ledger_path).exists():
            led = read_ledger(status.ledger_path)
            status.sent = {n: u.records for n, u in led.unicorns.items()}
            status.failed = led.failed
            status.finished = led.finished
    return status


def _args(names: Iterable[str], rate: float, count: int | None, duration: float | None,
          seed: int | None, stream: str | None, ledger: Path) -> list[str]:
    args: list[str] = []
    for n in names:
        args += ["--name", n]
    args += ["--rate", repr(float(rate)), "--ledger", str(ledger), "--quiet"]
    if count is not None:
        args += ["--count", str(count)]
    if duration is not None:
        args += ["--duration", repr(float(duration))]
    if seed is not None:
        args += ["--seed", str(seed)]
    if stream is not None:
        args += ["--stream", stream]
    return args


def start_producer(names: Sequence[str] | str = (DEFAULT_NAME,), rate: float = 1.0,
                   count: int | None = None, duration: float | None = None,
                   seed: int | None = None, stream: str | None = None,
                   session: LabSession | None = None) -> StepResult:
    """Start the producer as a background process that outlives this kernel.

    A producer that already runs is left alone (stop it first to change its settings).

    Example
    -------
    >>> start_producer(["Shadowfax", "Rocinante"], duration=200, seed=7)   # doctest: +SKIP
    04_monitor: started. Producer started (pid 4321) for Shadowfax, Rocinante ...
    """
    names = [names] if isinstance(names, str) else list(names)
    validate_args(names, rate, count, duration)
    lab = get_session(session)
    check_not_restarted(lab, NB_MONITOR)
    mark = lab.mark()
    cfg = lab.config
    current = producer_status(config=cfg)
    if current.running:
        return StepResult(NB_MONITOR, "already running",
                          f"A producer already runs (pid {current.pid}); nothing started. "
                          "Call stop_producer() first to start another.",
                          {"sent so far": current.total, "args": " ".join(current.args)},
                          lab.calls_since(mark))
    try:
        _check_stream(lab.client("kinesis"), stream or cfg.stream_name)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        better = translate(exc, lab, NB_MONITOR, mark)
        if better is None:
            raise
        raise better from None
    ledger = default_ledger_path(cfg)
    with contextlib.suppress(FileNotFoundError):
        ledger.unlink()  # a stale ledger would look like progress of the new run
    cfg.home.mkdir(parents=True, exist_ok=True)
    args = _args(names, rate, count, duration, seed, stream, ledger)
    log_path = cfg.home / "producer.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wildrydes_helpers", "produce", *args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_child_env(cfg), start_new_session=True, close_fds=True)
    _children[proc.pid] = proc
    state = {"pid": proc.pid, "args": args, "ledger": str(ledger), "log": str(log_path),
             "started_at": time.time()}
    write_state(state_path(cfg), state)
    # Wait until it has written its (empty) ledger, so status works at once and an early
    # failure is reported here rather than lost in a log file.
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline and not ledger.exists():
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise WildRydesError("The producer stopped at once: " + " / ".join(tail))
        time.sleep(0.05)
    how = f"{count} records each" if count else \
        f"{duration if duration else default_duration(cfg.window_seconds):.0f} s"
    return StepResult(NB_MONITOR, "started",
                      f"Producer started (pid {proc.pid}) for {', '.join(names)}: "
                      f"{rate:g} record(s)/s each, {how}.",
                      {"stream": stream or cfg.stream_name, "ledger": str(ledger),
                       "log": str(log_path)}, lab.calls_since(mark))


def _stop_pid(pid: int, timeout: float = 10.0) -> bool:
    if not _is_ours(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # the producer flushes its ledger and exits
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _is_alive(pid):
        time.sleep(0.05)
    if _is_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
    return True


def stop_producer(session: LabSession | None = None,
                  config: Config | None = None) -> StepResult:
    """Stop the background producer started by start_producer (only that one, by its pid).

    Example
    -------
    >>> stop_producer()   # doctest: +SKIP
    04_monitor: stopped. Stopped the producer (pid 4321) after 120 records.
    """
    cfg = config or (session.config if session is not None else load_config())
    state = _read_state(cfg)
    pid = int(state.get("pid", 0)) if state else 0
    stopped = pid > 0 and _stop_pid(pid)
    final = producer_status(config=cfg)
    if not stopped:
        return StepResult(NB_MONITOR, "up to date", "No producer of this lab is running.",
                          {"sent by the last run": final.total} if final.pid else {})
    return StepResult(NB_MONITOR, "stopped",
                      f"Stopped the producer (pid {pid}) after {final.total} records.",
                      {"sent": final.sent, "ledger": final.ledger_path})


def stop_all_producers(cfg: Config | None = None) -> int:
    """Stop every producer this lab home started; returns how many were running.

    Example
    -------
    >>> stop_all_producers()   # doctest: +SKIP
    0
    """
    cfg = cfg or load_config()
    stopped = 0
    pids = set(_children)
    state = _read_state(cfg)
    if state and int(state.get("pid", 0)) > 0:
        pids.add(int(state["pid"]))
    for pid in sorted(pids):
        stopped += _stop_pid(pid)
    return stopped
