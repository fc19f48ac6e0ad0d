"""A class on one server: 30 students, each with their own home, port and local cloud.

A school's JupyterHub host gives each student their own local cloud. Each of ``STUDENTS``
processes (``benchmarks/student.py``, standing in for a student's kernel) gets its own
WILDRYDES_HOME and free port, starts its own local cloud and runs the lab's steps through the
helpers: stream, table, role, function and mapping with 10 s windows, then a producer of 2
unicorns for 3 windows, the wait, the reconciliation. The students start spread evenly over
``SPREAD_S`` seconds, as a class arrives, not aligned. Measured:

- ``classroom_host_exact``: every one of the 30 reconciles exactly;
- ``classroom_host_final_latency_s_p99``: window end to the function's ``Writing:`` log line
  just before each PutItem, over every window of every student (bench_classroom's method);
- ``classroom_host_peak_pss_mb``: the peak, sampled every ``SAMPLE_EVERY_S``, of the memory
  every process of every student holds together: the student's own process, its local cloud
  and everything below it (its zygote and function workers), its producer. It is the sum of
  their proportional set sizes (``pss_mb``: a page shared by n processes counts 1/n in each),
  which is what the host gives them. ``classroom_host_peak_rss_mb``, the peak of the sum of
  their resident sizes, is reported beside it: it counts each shared library (libpython, the
  SSL libraries) once per process, and each page a worker shares with the zygote it was forked
  from twice, so it over-states what the host uses;
- ``classroom_host_setup_s``: from the first student's start until the last one is ready
  (mapping created), the moment its producer may start.

Everything it started is stopped at the end, by PID: each student stops its own producer and
local cloud; the benchmark then stops any process that is still alive from the PIDs the
students reported, and counts them (``classroom_host_left_running``, 0 when all went well).

Example
-------
>>> run("unused")["classroom_host_exact"]   # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from wildrydes_helpers.ports import free_port
from wildrydes_helpers.processes import command_line, is_ours, pss_mb, rss_mb, stop_tree, tree

from .common import percentile, progress

STUDENTS = 30
SPREAD_S = 30.0
WINDOW_S = 10
SAMPLE_EVERY_S = 1.0
STUDENT_TIMEOUT_S = 600
ROOT = Path(__file__).resolve().parents[1]
# What the command line of a process a student started holds (its own, a local cloud, a producer).
MARKERS = ("benchmarks.student", "wildrydes_helpers")
FIGURES = ("classroom_host_exact", "classroom_host_final_latency_s_p99",
           "classroom_host_peak_pss_mb", "classroom_host_setup_s")


def student_env(base: dict[str, str], home: Path, port: int, number: int) -> dict[str, str]:
    """The environment of student ``number``: own home and port, 10 s windows, local backend.

    Example
    -------
    >>> env = student_env({"AWS_PROFILE": "x", "PATH": "/bin"}, Path("/h"), 4700, 7)
    >>> env["WILDRYDES_PREFIX"], env["WILDRYDES_LOCAL_PORT"], "AWS_PROFILE" in env
    ('s07', '4700', False)
    """
    from wildrydes_helpers.run_lab import lab_environment

    env = lab_environment(base, home, port, WINDOW_S)
    env["WILDRYDES_PREFIX"] = f"s{number:02d}"
    env["PYTHONPATH"] = str(ROOT)  # `python -m benchmarks.student` from any folder
    return env


def _reported_pids(out: Path) -> set[int]:
    with contextlib.suppress(OSError, ValueError):
        return set(json.loads(out.with_suffix(".pids").read_text())["pids"])
    return set()


class _Peak:
    """The largest sum seen of one memory measure, with its process count and parts by kind."""

    def __init__(self) -> None:
        self.mb = 0.0
        self.processes = 0
        self.by_kind: dict[str, float] = {}

    def offer(self, sample: dict[int, float]) -> None:
        total = sum(sample.values())
        if total > self.mb:
            self.mb, self.processes, self.by_kind = total, len(sample), by_kind(sample)


class _Sampler(threading.Thread):
    """Peaks of the summed PSS and of the summed RSS of every student's processes."""

    def __init__(self, drivers: list[subprocess.Popen], outs: list[Path]) -> None:
        super().__init__(name="classroom-host-sampler", daemon=True)
        self.drivers, self.outs = drivers, outs
        self.pss, self.rss = _Peak(), _Peak()
        self.stop_event = threading.Event()

    def pids(self) -> set[int]:
        """Every process of every student, now."""
        pids: set[int] = set()
        roots = {p.pid for p in list(self.drivers)}
        for out in list(self.outs):
            roots |= _reported_pids(out)
        for root in roots:
            pids |= {proc.pid for proc in tree(root)}
        return pids

    def run(self) -> None:
        while not self.stop_event.is_set():
            pids = self.pids()
            self.pss.offer({pid: pss_mb(pid) for pid in pids})
            self.rss.offer({pid: rss_mb(pid) for pid in pids})
            self.stop_event.wait(SAMPLE_EVERY_S)


def kind_of(line: str) -> str:
    """What a student's process is, from its command line.

    Example
    -------
    >>> kind_of("python -m wildrydes_helpers local serve --port 4599")
    'local cloud'
    >>> kind_of("python -m benchmarks.student /tmp/s.json"), kind_of("python worker.py")
    ('student (kernel)', 'function worker')
    """
    if "benchmarks.student" in line:
        return "student (kernel)"
    if "local serve" in line:
        return "local cloud"
    if " produce " in f"{line} ":
        return "producer"
    return "function worker"


def by_kind(sample: dict[int, float]) -> dict[str, float]:
    """The memory of a sample (MB by PID) summed by kind of process."""
    out: dict[str, float] = {}
    for pid, mb in sample.items():
        kind = kind_of(command_line(pid))
        out[kind] = round(out.get(kind, 0.0) + mb, 1)
    return out


def _stop_leftovers(drivers: list[subprocess.Popen], outs: list[Path]) -> int:
    """Stop, by PID, whatever a student left running; how many there were."""
    left = 0
    for driver in drivers:
        if driver.poll() is None:
            left += 1
            stop_tree(driver.pid)
            driver.wait(10)
    for out in outs:
        for pid in _reported_pids(out):
            # A PID recycled by another program since the student reported it is not ours.
            if pid != os.getpid() and any(is_ours(pid, marker) for marker in MARKERS):
                left += 1
                stop_tree(pid)
    return left


def run(endpoint: str) -> dict[str, Any]:
    """Thirty students side by side; their figures. ``endpoint`` is not used.

    Example
    -------
    >>> run("unused")["classroom_host_setup_s"] <= 90   # doctest: +SKIP
    True
    """
    workdir = Path(tempfile.mkdtemp(prefix="wildrydes-bench-host-"))
    drivers: list[subprocess.Popen] = []
    outs: list[Path] = []
    sampler = _Sampler(drivers, outs)
    began = time.time()
    left = 0
    try:
        sampler.start()
        for number in range(STUDENTS):
            time.sleep(max(0.0, began + number * SPREAD_S / STUDENTS - time.time()))
            home = workdir / f"home-{number:02d}"
            home.mkdir(mode=0o700)
            out = workdir / f"student-{number:02d}.json"
            env = student_env(dict(os.environ), home, free_port(), number)
            with open(workdir / f"student-{number:02d}.log", "wb") as log:
                outs.append(out)
                drivers.append(subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.student", str(out)], env=env, cwd=ROOT,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
        progress(f"classroom_host: {STUDENTS} students started over {SPREAD_S:.0f} s")
        for driver in drivers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                driver.wait(max(1.0, began + STUDENT_TIMEOUT_S - time.time()))
    finally:
        sampler.stop_event.set()
        sampler.join(10)
        left = _stop_leftovers(drivers, outs)
    results = []
    for number, out in enumerate(outs):
        try:
            results.append(json.loads(out.read_text()))
        except (OSError, ValueError):
            results.append({"error": f"student {number} wrote no result"})
    errors = [f"s{n:02d}: {r['error']}" for n, r in enumerate(results) if "error" in r]
    for number, result in enumerate(results):
        if "traceback" in result:
            progress(f"classroom_host: student {number} failed:\n{result['traceback']}")
    good = [r for r in results if "error" not in r]
    latencies = [x for r in good for x in r["latencies"]]
    figures: dict[str, Any] = {
        "classroom_host_exact": bool(len(good) == STUDENTS and all(r["exact"] for r in good)),
        "classroom_host_students_exact": sum(1 for r in good if r["exact"]),
        "classroom_host_records": sum(r["records"] for r in good),
        "classroom_host_items": len(latencies),
        "classroom_host_final_latency_s_p50": round(percentile(latencies, 0.5), 3)
        if latencies else None,
        "classroom_host_final_latency_s_p99": round(percentile(latencies, 0.99), 3)
        if latencies else None,
        "classroom_host_peak_pss_mb": round(sampler.pss.mb, 1),
        "classroom_host_peak_processes": sampler.pss.processes,
        "classroom_host_peak_pss_by_kind_mb": sampler.pss.by_kind,
        "classroom_host_peak_rss_mb": round(sampler.rss.mb, 1),
        "classroom_host_peak_rss_by_kind_mb": sampler.rss.by_kind,
        "classroom_host_setup_s": round(max(r["ready_at"] for r in good) - began, 1)
        if len(good) == STUDENTS else None,
        "classroom_host_elapsed_s": round(time.time() - began, 1),
        "classroom_host_left_running": left,
    }
    if errors:
        figures["classroom_host_errors"] = errors[:5]
    progress(f"classroom_host: {figures}")
    shutil.rmtree(workdir, ignore_errors=True)
    return figures
