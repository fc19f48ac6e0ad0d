"""Helpers of ``07_extra_credit_failures``: faults, room in a window, the failure queue.

The fault switches are the one fault client's (faults_client.py), named here too: they are
the local cloud's shortcut. What works on AWS as well is in failure_lab.py (a failing version
of the function, the ReportBatchItemFailures demo).

Example
-------
>>> state_size_bytes(0)
52
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from .config import load_config
from .faults_client import clear_faults, set_faults
from .session import LabSession, get_session

__all__ = ["clear_faults", "drain_failure_queue", "local_only", "room_in_window",
           "set_faults", "state_size_bytes", "wait_for_failure_records"]


def local_only(what: str, session: LabSession | None = None) -> bool:
    """True on the local cloud; on AWS prints why ``what`` is skipped and returns False.

    Example
    -------
    >>> local_only("fault injection")       # doctest: +SKIP
    True
    """
    lab = get_session(session)
    if lab.is_local:
        return True
    print(f"Skipped on AWS: {what} is a feature of the local cloud. On AWS, read this part "
          "and its explanation; the cells around it run the same on both backends.")
    return False


def state_size_bytes(unicorns: int) -> int:
    """Bytes of a window state holding ``unicorns`` unicorns, as the function keeps it.

    Each unicorn is ``{"distance": ..., "records": ...}`` under its name (lambda/index.py);
    names like ``Unicorn00001`` and a minute's worth of records.

    Example
    -------
    >>> state_size_bytes(0)
    52
    """
    state = {"unicorns": {f"Unicorn{i:05d}": {"distance": 1799.25, "records": 60}
                          for i in range(unicorns)},
             "bad": {"count": 0, "reasons": {}}}
    return len(json.dumps(state).encode())


def room_in_window(need_s: float, session: LabSession | None = None,
                   clock: Callable[[], float] | None = None,
                   sleep: Callable[[float], None] | None = None) -> float:
    """Wait for the next window if the current one has less than ``need_s`` (+0.5 s) left.

    So a short burst of records lands in a single window. Returns the seconds waited.

    Example
    -------
    >>> room_in_window(0.5, clock=lambda: 118.0, sleep=lambda s: None)  # W=60: 2 s left
    0.0
    """
    clock = clock or time.time
    sleep = sleep or time.sleep
    w = (session.config if session is not None else load_config()).window_seconds
    now = clock()
    left = w - now % w
    if left >= need_s + 0.5:
        return 0.0
    wait = left + 0.05
    sleep(wait)
    return wait


def drain_failure_queue(session: LabSession | None = None,
                        wait_s: float = 1.0) -> list[dict[str, Any]]:
    """Read (and delete) the trigger's failure records from the on-failure SQS queue.

    Each is the JSON Lambda sends when it gives up on a batch: ``requestContext.condition``
    and ``KinesisBatchInfo`` (shard, sequence numbers, batch size); never the records' data.

    Example
    -------
    >>> [n["KinesisBatchInfo"]["batchSize"] for n in drain_failure_queue()]  # doctest: +SKIP
    [1, 1, 1]
    """
    lab = get_session(session)
    sqs = lab.client("sqs")
    url = sqs.get_queue_url(QueueName=lab.config.failure_queue_name)["QueueUrl"]
    notes: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=int(wait_s)).get("Messages", [])
        if not got:
            return notes
        for message in got:
            try:
                notes.append(json.loads(message["Body"]))
            except ValueError:
                notes.append({"unreadable": message["Body"][:200]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def wait_for_failure_records(records: int, timeout: float | None = None,
                             session: LabSession | None = None,
                             clock: Callable[[], float] | None = None
                             ) -> list[dict[str, Any]]:
    """Drain the failure queue until its failure records cover ``records`` records.

    Returns what arrived, even when ``timeout`` (default: 60 s + two windows) runs out first;
    then it prints how many records are still unaccounted for, instead of raising.

    Example
    -------
    >>> sum(n["KinesisBatchInfo"]["batchSize"]
    ...     for n in wait_for_failure_records(4))      # doctest: +SKIP
    4
    """
    lab = get_session(session)
    clock = clock or time.monotonic
    timeout = timeout if timeout is not None else 60.0 + 2 * lab.config.window_seconds
    deadline = clock() + timeout
    notes: list[dict[str, Any]] = []
    covered = 0
    while covered < records:
        if clock() > deadline:
            print(f"Gave up waiting after {timeout:.0f} s: failure records cover {covered} of "
                  f"{records} records. Lambda may still be retrying; run this cell again.")
            break
        notes += drain_failure_queue(lab)
        covered = sum((n.get("KinesisBatchInfo") or {}).get("batchSize", 0) for n in notes)
    return notes
