"""A full classroom on one local cloud: 30 producers of 5 unicorns each, for 3 windows.

Each producer is a process of its own (``wildrydes produce`` with its own ledger), as 30
students' notebooks would start them, writing 1 record a second per unicorn into one 4-shard
stream for 3 windows' time. They start spread evenly over ``SPREAD_S`` seconds, as a class
does, not aligned on a window boundary. The lab's function and trigger aggregate them in 10 s
windows. Measured:

- ``classroom_exact``: the reconciliation is exact: every record of every ledger is in the
  stream once, and every window of every unicorn in the table holds what the stream says it
  should (``classroom_window_differences`` counts the windows that do not);
- ``classroom_final_latency_s_p99``: from a window's end to its item being written, taken
  from the timestamp of the function's ``Writing:`` log line just before each PutItem (the
  item is readable when that PutItem returns, milliseconds later). Polling the table instead
  would hold the local cloud's lock for every scan and slow down what it measures;
- ``classroom_peak_pss_mb``: the memory the local cloud process and its function workers hold
  together, sampled every 0.5 s: the sum of their proportional set sizes (``pss_mb``: a page
  shared by n processes counts 1/n in each). ``classroom_peak_rss_mb`` is the sum of their
  resident sizes, which counts each page a worker shares with the zygote it was forked from,
  and each shared library, once per process: reported beside it, it over-states what they hold.

Example
-------
$ python -m benchmarks 2>/dev/null | tail -1 | jq .classroom_exact
true
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wildrydes_helpers.config import load_config
from wildrydes_helpers.ledger import Ledger, read_ledger
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.processes import new_session_options, tree_pss_mb, tree_rss_mb
from wildrydes_helpers.session import LabSession, get_session

from .common import percentile, progress

PRODUCERS = 30
UNICORNS_EACH = 5
SHARDS = 4
WINDOW_S = 10
WINDOWS = 3
RATE = 1.0
SPREAD_S = 10.0
SAMPLE_EVERY_S = 0.5
PREFIX = "classroom"
FIGURES = ("classroom_exact", "classroom_final_latency_s_p99", "classroom_peak_pss_mb")


def merge_ledgers(ledgers: list[Ledger]) -> Ledger:
    """One ledger of the whole class (every student's unicorns have distinct names).

    Example
    -------
    >>> merge_ledgers([Ledger(stream="s", window_seconds=10, started_at=5.0)]).started_at
    5.0
    """
    merged = Ledger(stream=ledgers[0].stream, window_seconds=ledgers[0].window_seconds,
                    started_at=min(led.started_at for led in ledgers))
    for led in ledgers:
        merged.unicorns.update(led.unicorns)
        merged.failed += led.failed
        merged.shard_ids = sorted(set(merged.shard_ids) | set(led.shard_ids))
    return merged


class _Sampler(threading.Thread):
    """Peak PSS and peak RSS of a process tree (the local cloud and its workers), until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="classroom-sampler", daemon=True)
        self.pid = pid
        self.peak_pss_mb = 0.0
        self.peak_rss_mb = 0.0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.peak_pss_mb = max(self.peak_pss_mb, tree_pss_mb(self.pid))
            self.peak_rss_mb = max(self.peak_rss_mb, tree_rss_mb(self.pid))
            self.stop_event.wait(SAMPLE_EVERY_S)


def write_latencies(lab: LabSession) -> dict[tuple[str, str], float]:
    """Seconds from each window's end to the function's write of its item, per (name, window).

    Example
    -------
    >>> write_latencies(get_session())   # doctest: +SKIP
    {('s00u0', '2024-05-01T12:00:00Z'): 1.12, ...}
    """
    import wildrydes_helpers as wr
    from wildrydes_helpers.monitor import parse_line

    out: dict[tuple[str, str], float] = {}
    events = wr.log_events(filter_pattern='"Writing:"', limit=10**6, session=lab)
    for when, message in zip(events["time"], events["message"], strict=True):
        parsed = parse_line(message)
        if parsed is None or parsed[0] != "Writing":
            continue
        item = parsed[1]
        ended = datetime.strptime(item["windowEnd"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC).timestamp()
        key = (str(item["name"]), str(item["windowStart"]))
        # A retried final writes again; the first write is when the item became readable.
        out[key] = min(out.get(key, float("inf")), when.timestamp() - ended)
    return out


def _start_producers(lab: LabSession, workdir: Path, duration: float) -> list[subprocess.Popen]:
    cfg = lab.config
    env = dict(os.environ, WILDRYDES_HOME=str(cfg.home), WILDRYDES_BACKEND="local",
               WILDRYDES_LOCAL_PORT=str(cfg.local_port), WILDRYDES_PREFIX=cfg.prefix,
               WILDRYDES_WINDOW_SECONDS=str(cfg.window_seconds), PYTHONUNBUFFERED="1")
    procs = []
    began = time.monotonic()
    for student in range(PRODUCERS):
        # Spread over SPREAD_S: student k starts k * SPREAD_S / PRODUCERS seconds in.
        time.sleep(max(0.0, began + student * SPREAD_S / PRODUCERS - time.monotonic()))
        names = [arg for u in range(UNICORNS_EACH) for arg in ("--name", f"s{student:02d}u{u}")]
        log = open(workdir / f"producer-{student:02d}.log", "wb")  # noqa: SIM115 - the child's
        try:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "wildrydes_helpers", "produce", *names,
                 "--rate", str(RATE), "--duration", str(duration), "--seed", str(student),
                 "--ledger", str(workdir / f"ledger-{student:02d}.json"), "--quiet"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                **new_session_options()))
        finally:
            log.close()
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()  # the producer flushes its ledger on SIGTERM
    deadline = time.monotonic() + 10
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.1, deadline - time.monotonic()))
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run(endpoint: str) -> dict[str, Any]:
    """Run the classroom against the local cloud at ``endpoint``; return its figures.

    Example
    -------
    >>> run("http://127.0.0.1:4599")["classroom_exact"]   # doctest: +SKIP
    True
    """
    import wildrydes_helpers as wr

    base = load_config()
    cfg = dataclasses.replace(base, prefix=PREFIX, window_seconds=WINDOW_S)
    lab = get_session(config=cfg)
    if lab.endpoint != endpoint:
        raise RuntimeError(f"the lab session uses {lab.endpoint}, not the benchmark's {endpoint}")
    running = local_cloud.status(cfg)
    if running is None:
        raise RuntimeError("the benchmark's local cloud is not running")
    wr.create_stream(shard_count=SHARDS, session=lab)
    for step in (wr.create_table, wr.create_role, wr.create_function):
        step(session=lab)
    workdir = cfg.home / "classroom"
    workdir.mkdir(parents=True, exist_ok=True)
    sampler = _Sampler(int(running["pid"]))
    sampler.start()
    procs: list[subprocess.Popen] = []
    began = time.time()
    try:
        procs = _start_producers(lab, workdir, duration=WINDOW_S * WINDOWS)
        progress(f"classroom: {PRODUCERS} producers x {UNICORNS_EACH} unicorns started "
                 f"over {SPREAD_S:.0f} s")
        for proc in procs:
            proc.wait(timeout=WINDOW_S * WINDOWS + SPREAD_S + 120)
        ledgers = [read_ledger(workdir / f"ledger-{i:02d}.json") for i in range(PRODUCERS)]
        ledger = merge_ledgers(ledgers)
        progress(f"classroom: producers done, {ledger.total_records} records sent; waiting")
        done = wr.wait_for_windows(ledger=ledger, timeout=3 * WINDOW_S + 60, poll_s=1.0,
                                   progress=False, session=lab)
        result = wr.reconcile(ledger, wr.windows(session=lab), session=lab)
    finally:
        _stop(procs)
        sampler.stop_event.set()
        sampler.join(5)
    latencies = list(write_latencies(lab).values())
    figures: dict[str, Any] = {
        "classroom_exact": bool(result.exact and done.complete and ledger.failed == 0),
        "classroom_records": ledger.total_records,
        "classroom_unicorns": len(ledger.unicorns),
        "classroom_items": len(latencies),
        "classroom_window_differences": len(result.window_differences),
        "classroom_stream_records_read": result.stream_read,
        "classroom_final_latency_s_p50": round(percentile(latencies, 0.5), 3) if latencies
        else None,
        "classroom_final_latency_s_p99": round(percentile(latencies, 0.99), 3) if latencies
        else None,
        "classroom_peak_pss_mb": round(sampler.peak_pss_mb, 1),
        "classroom_peak_rss_mb": round(sampler.peak_rss_mb, 1),
        "classroom_elapsed_s": round(time.time() - began, 1),
    }
    with contextlib.suppress(Exception):
        wr.clean_up(stop_producer=False, session=lab)
    return figures
