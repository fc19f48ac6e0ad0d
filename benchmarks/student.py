"""One student of ``bench_classroom_host``: the lab's steps through the helpers, in a process.

Run as ``python -m benchmarks.student OUT_JSON`` with the student's own ``WILDRYDES_HOME``,
``WILDRYDES_LOCAL_PORT``, ``WILDRYDES_PREFIX`` and ``WILDRYDES_WINDOW_SECONDS`` in the
environment, as a student's kernel would have them. It starts its own local cloud, creates the
stream, table, role, function and mapping, notes the moment it is ready, runs a background
producer of 2 unicorns for 3 windows, waits for the windows, reconciles, and writes what it saw
to ``OUT_JSON``. It writes ``OUT_JSON.pids`` as soon as it knows its processes (local cloud,
producer), so the benchmark can sum their memory and stop them if this process dies. At the end
it stops its producer and its local cloud, by PID.

Example
-------
$ WILDRYDES_HOME=/tmp/s1 WILDRYDES_LOCAL_PORT=45001 python -m benchmarks.student /tmp/s1.json
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

UNICORNS = 2
WINDOWS = 3


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # the benchmark never reads half a file


def _pids(lab: Any) -> list[int]:
    from wildrydes_helpers.local import process as local_cloud
    from wildrydes_helpers.producer import producer_status

    pids = [os.getpid()]
    cloud = local_cloud.status(lab.config) or {}
    if cloud.get("pid"):
        pids.append(int(cloud["pid"]))
    producer = producer_status(config=lab.config)
    if producer.running and producer.pid:
        pids.append(int(producer.pid))
    return pids


def latencies(lab: Any) -> list[float]:
    """Seconds from each window's end to the function's write of its item (its log line)."""
    from .bench_classroom import write_latencies

    return list(write_latencies(lab).values())


def student(out: Path) -> dict[str, Any]:
    """The lab's steps for one student; what it measured.

    Example
    -------
    >>> student(Path("/tmp/s1.json"))["exact"]    # doctest: +SKIP
    True
    """
    started = time.time()
    import wildrydes_helpers as wr
    from wildrydes_helpers.local import process as local_cloud
    from wildrydes_helpers.prerequisites import wait_for_producer

    lab = wr.get_session()  # starts this student's own local cloud
    pids_file = out.with_suffix(".pids")
    seen: set[int] = set()
    try:
        seen.update(_pids(lab))
        _write(pids_file, {"pids": sorted(seen)})
        wr.create_stream(shard_count=1)
        wr.create_table()
        wr.create_role()
        wr.create_function()  # the function and its mapping (10 s tumbling windows)
        ready = time.time()
        seed = int(lab.config.prefix.rsplit("s", 1)[-1] or 0)
        names = [f"{lab.config.prefix}u{i}" for i in range(UNICORNS)]
        wr.start_producer(names=names, rate=1.0, count=WINDOWS * lab.config.window_seconds,
                          seed=seed)
        seen.update(_pids(lab))
        _write(pids_file, {"pids": sorted(seen)})
        wait_for_producer(progress=False)
        ledger = wr.read_ledger(wr.default_ledger_path(lab.config))
        done = wr.wait_for_windows(ledger=ledger, progress=False)
        result = wr.reconcile(ledger, wr.windows())
        waited = time.time()
        return {"started_at": started, "ready_at": ready, "done_at": waited,
                "exact": bool(result.exact and done.complete and ledger.failed == 0),
                "records": ledger.total_records, "latencies": latencies(lab),
                "pids": sorted(seen)}
    finally:
        wr.stop_all_producers(lab.config)
        local_cloud.stop(lab.config)


def main(argv: list[str] | None = None) -> int:
    """Run one student; write its result (or its error) to the JSON file named first."""
    out = Path((sys.argv[1:] if argv is None else argv)[0])
    try:
        _write(out, student(out))
        return 0
    except Exception as exc:  # noqa: BLE001 - the benchmark reports it, with the traceback
        _write(out, {"error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc()})
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
