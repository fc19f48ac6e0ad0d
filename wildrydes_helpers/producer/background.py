"""The producer as a process of its own, started from a notebook; it outlives the kernel.

``start_producer()`` starts it, ``producer_status()`` reports progress from its ledger and
``stop_producer()`` stops it (only that process, found again by the pid in its state file).

Example
-------
>>> producer_status()   # doctest: +SKIP
producer running (pid 4321): 42 records sent (Shadowfax: 42)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.exceptions

from .. import processes
from ..config import Config, load_config
from ..errors import WildRydesError
from ..lab_step import check_not_restarted, translate
from ..ledger import default_ledger_path, read_ledger
from ..notebook_names import NB_MONITOR
from ..session import LabSession, get_session
from ..statefile import (
    int_field,
    open_private_append,
    private_dir,
    read_state,
    str_field,
    write_state,
)
from ..step_result import StepResult
from .run import check_stream, default_duration, validate_args
from .simulate import DEFAULT_NAME

# What the producer's command line holds (``python -m wildrydes_helpers produce ...``).
PRODUCER_MARKERS = ("wildrydes_helpers", " produce")
STOP_TIMEOUT_S = 10.0

_children: dict[int, subprocess.Popen[bytes]] = {}


def state_path(cfg: Config) -> Path:
    """Where the background producer's pid, arguments and ledger path are kept.

    Example
    -------
    >>> state_path(load_config()).name
    'producer.json'
    """
    return cfg.home / "producer.json"


def _read_state(cfg: Config) -> dict[str, Any] | None:
    """The producer's state if every field has the right type; else None (stale, no crash).

    Example
    -------
    >>> import tempfile
    >>> cfg = Config(home=Path(tempfile.mkdtemp()))
    >>> write_state(state_path(cfg), {"pid": "abc", "args": [], "ledger": "x"})
    >>> _read_state(cfg) is None
    True
    """
    state = read_state(state_path(cfg))
    if state is None or int_field(state, "pid") is None:
        return None
    args, ledger = state.get("args", []), state.get("ledger")
    if not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
        return None
    if ledger is not None and str_field(state, "ledger") is None:
        return None
    return state


def _is_ours(pid: int) -> bool:
    """True if ``pid`` runs this lab's producer (a recycled pid must never be signalled)."""
    return processes.is_ours(pid, *PRODUCER_MARKERS)


def _child_env(cfg: Config) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "WILDRYDES_BACKEND": cfg.backend, "WILDRYDES_PREFIX": cfg.prefix,
        "WILDRYDES_WINDOW_SECONDS": str(cfg.window_seconds),
        "WILDRYDES_HOME": str(cfg.home),
        "AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region,
        "PYTHONUNBUFFERED": "1",
    })
    # A port of the home's own choosing is in its state file, where the child finds it too.
    if cfg.local_port_fixed:
        env["WILDRYDES_LOCAL_PORT"] = str(cfg.local_port)
    else:
        env.pop("WILDRYDES_LOCAL_PORT", None)
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
    pid = int(state["pid"])
    status = ProducerStatus(running=_is_ours(pid), pid=pid,
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
        check_stream(lab.client("kinesis"), stream or cfg.stream_name)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        better = translate(exc, lab, NB_MONITOR, mark)
        if better is None:
            raise
        raise better from None
    ledger = default_ledger_path(cfg)
    with contextlib.suppress(FileNotFoundError):
        ledger.unlink()  # a stale ledger would look like progress of the new run
    private_dir(cfg.home)
    args = _args(names, rate, count, duration, seed, stream, ledger)
    log_path = cfg.home / "producer.log"
    with open_private_append(log_path) as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wildrydes_helpers", "produce", *args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_child_env(cfg), close_fds=True, **processes.new_session_options())
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


def _stop_pid(pid: int, timeout: float = STOP_TIMEOUT_S) -> bool:
    if not _is_ours(pid):
        return False
    processes.stop_tree(pid, timeout=timeout)  # SIGTERM first: the producer flushes its ledger
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
    pid = int(state["pid"]) if state else 0
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
    if state:
        pids.add(int(state["pid"]))
    for pid in sorted(pids):
        stopped += _stop_pid(pid)
    return stopped
