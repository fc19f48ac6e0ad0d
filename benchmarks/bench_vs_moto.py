"""The local cloud beside the engine underneath it: moto's own server, same calls, same run.

Both servers are fresh processes on this machine: the local cloud in a private home, and
``python -m moto.server`` (moto's standalone server, the version the lab pins) on a free port.
One boto3 client each, made the same way (``common.client_for``), sends ``CALLS`` PutItem calls
and ``CALLS`` PutRecord calls one after another; the two servers take turns, ``ROUNDS`` times,
each going first in half the rounds, so a noisy neighbour on the machine hits both alike.
Each rate is the median over the rounds.

``api_vs_moto_ratio`` is the smaller of the PutItem and the PutRecord ratios (local cloud's
calls a second over moto's).

Example
-------
>>> run("unused")   # doctest: +SKIP
{'api_vs_moto_ratio': 1.4, 'putitem_local_per_s': 660.0, 'putitem_moto_per_s': 460.0, ...}
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.ports import free_port
from wildrydes_helpers.processes import new_session_options, stop_tree

from .common import client_for, local_client, private_config, progress, wait_until

# Many short turns rather than a few long ones: a neighbour's burst of CPU on a shared machine
# then lands on both servers alike instead of on one server's whole measurement.
CALLS = 100
ROUNDS = 10
FIGURES = ("api_vs_moto_ratio",)
# moto's server wants some credentials; it checks none.
MOTO_CREDENTIALS = ("testing", "testing")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's own server in a process of its own on a free port; its endpoint. Stopped after.

    Example
    -------
    >>> with moto_server() as endpoint:      # doctest: +SKIP
    ...     endpoint
    'http://127.0.0.1:40123'
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            **new_session_options())
    endpoint = f"http://127.0.0.1:{port}"
    try:
        sts = client_for("sts", endpoint, credentials=MOTO_CREDENTIALS)
        wait_until(lambda: bool(sts.get_caller_identity()), timeout_s=60, interval_s=0.1)
        yield endpoint
    finally:
        stop_tree(proc.pid)
        proc.wait(10)


def _targets(ddb: Any, kinesis: Any, name: str) -> None:
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"},
                                           {"AttributeName": "windowStart",
                                            "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "name", "KeyType": "HASH"},
                                {"AttributeName": "windowStart", "KeyType": "RANGE"}])
    kinesis.create_stream(StreamName=name, ShardCount=1)
    wait_until(lambda: kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", timeout_s=30)


def calls_per_s(call: Callable[[int], Any], calls: int = CALLS) -> float:
    """How many ``call(i)`` a second, over ``calls`` calls in a row.

    Example
    -------
    >>> calls_per_s(lambda i: None, 10) > 100
    True
    """
    began = time.perf_counter()
    for i in range(calls):
        call(i)
    return calls / (time.perf_counter() - began)


def _calls(ddb: Any, kinesis: Any, name: str) -> dict[str, Callable[[int], Any]]:
    def put_item(i: int) -> Any:
        return ddb.put_item(TableName=name, Item={
            "name": {"S": f"Shadowfax{i % 50}"}, "windowStart": {"S": f"2024-05-01T12:{i:05d}"},
            "distance": {"N": "1234.5"}, "records": {"N": "60"}})

    def put_record(i: int) -> Any:
        return kinesis.put_record(
            StreamName=name, PartitionKey=f"Shadowfax{i % 50}",
            Data=b'{"Name": "Shadowfax", "Distance": 30.1, "MagicPoints": 150}')

    return {"putitem": put_item, "putrecord": put_record}


def run(endpoint: str) -> dict[str, Any]:
    """PutItem and PutRecord rates through a fresh local cloud and moto's server; the ratio.

    ``endpoint`` (the shared cloud, full of other benchmarks' data) is not used.

    Example
    -------
    >>> run("unused")["api_vs_moto_ratio"] >= 1.2   # doctest: +SKIP
    True
    """
    rates: dict[str, list[float]] = {}
    with private_config() as cfg, moto_server() as moto_endpoint:
        try:
            local_endpoint = local_cloud.start(cfg)
            servers = {
                "local": (local_client("dynamodb", local_endpoint, cfg=cfg),
                          local_client("kinesis", local_endpoint, cfg=cfg)),
                "moto": (client_for("dynamodb", moto_endpoint, credentials=MOTO_CREDENTIALS),
                         client_for("kinesis", moto_endpoint, credentials=MOTO_CREDENTIALS)),
            }
            work = {}
            for server, (ddb, kinesis) in servers.items():
                _targets(ddb, kinesis, "bench-vs-moto")
                work[server] = _calls(ddb, kinesis, "bench-vs-moto")
                for call in work[server].values():  # connections open, code paths warm
                    calls_per_s(call, 20)
            for round_number in range(ROUNDS):
                # Each server goes first in half the rounds: neither always runs on a machine
                # the other has just warmed (or loaded).
                order = ("local", "moto") if round_number % 2 == 0 else ("moto", "local")
                for kind in ("putitem", "putrecord"):
                    for server in order:
                        rates.setdefault(f"{kind}_{server}_per_s", []).append(
                            calls_per_s(work[server][kind]))
        finally:
            local_cloud.stop(cfg)
    figures: dict[str, Any] = {k: round(statistics.median(v), 1) for k, v in rates.items()}
    ratios = {kind: figures[f"{kind}_local_per_s"] / figures[f"{kind}_moto_per_s"]
              for kind in ("putitem", "putrecord")}
    figures.update({f"{kind}_vs_moto_ratio": round(r, 3) for kind, r in ratios.items()})
    figures["api_vs_moto_ratio"] = round(min(ratios.values()), 3)
    progress(f"bench_vs_moto: {figures}")
    return figures
