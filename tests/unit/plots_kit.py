"""A producer run played through the lab's real function, for the plot tests.

``lab_run`` takes the producer's records (window_model), forms the batches and final calls
Lambda would make, calls ``lambda/index.py``'s handler with each event, and keeps what the
function prints as CloudWatch would (START, its lines, END, REPORT) and what it writes to
the table. The plots are then tested on the function's own output, not on hand-made rows.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from wildrydes_helpers.query import items_to_frame
from wildrydes_helpers.window_model import (
    LAB_SEED,
    LAB_UNICORNS,
    Call,
    producer_arrivals,
    window_calls,
    window_of,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = pd.Timestamp("2024-05-01T12:00:00Z")  # a window boundary for any length dividing 3600
SHARD = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes"
BATCH_DELAY_S = 0.3  # a batch call comes a little after its records arrive
FINAL_DELAY_S = 0.005  # the final call comes just after the window's end


class FakeTable:
    """Keeps put items by key, as DynamoDB would (a repeated final overwrites)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def put_item(self, Item: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.items[(Item["name"], Item["windowStart"])] = dict(Item)
        return {}


def load_function(table: FakeTable) -> ModuleType:
    """A fresh lambda/index.py whose table is ``table``."""
    spec = importlib.util.spec_from_file_location("wildrydes_plots_fn", ROOT / "lambda/index.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._table = lambda name: table
    return module


@contextlib.contextmanager
def _table_name() -> Iterator[None]:
    """TABLE_NAME set for the handler (as the function's configuration does), then restored."""
    before = os.environ.get("TABLE_NAME")
    os.environ["TABLE_NAME"] = "UnicornAggregation"
    try:
        yield
    finally:
        if before is None:
            del os.environ["TABLE_NAME"]
        else:
            os.environ["TABLE_NAME"] = before


@dataclass
class Run:
    """What a played run gives: the model's calls, the log lines, and the table's rows."""

    calls: list[Call]
    logs: pd.DataFrame
    table: pd.DataFrame
    window_seconds: int


def _utc(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(call: Call, arrivals: list[tuple[str, float, float]], window_seconds: int,
           state: dict[str, Any], seq: list[int]) -> dict[str, Any]:
    start = T0 + pd.Timedelta(seconds=call.window * window_seconds)
    records = []
    for name, second, metres in arrivals:
        seq[0] += 1
        data = json.dumps({"Name": name, "Distance": metres}).encode()
        records.append({"kinesis": {"partitionKey": name, "sequenceNumber": str(seq[0]),
                                    "data": base64.b64encode(data).decode(),
                                    "approximateArrivalTimestamp":
                                        (T0 + pd.Timedelta(seconds=second)).timestamp()},
                        "eventID": f"{SHARD}:{seq[0]}", "eventSource": "aws:kinesis"})
    return {"Records": records, "window": {"start": _utc(start), "end": _utc(
        start + pd.Timedelta(seconds=window_seconds))}, "state": state, "shardId": SHARD,
        "eventSourceARN": STREAM_ARN, "isFinalInvokeForWindow": call.kind == "final",
        "isWindowTerminatedEarly": False}


def lab_run(window_seconds: int = 60, count: int | None = None, start_s: float = 0.0,
            names: tuple[str, ...] = LAB_UNICORNS, seed: int = LAB_SEED) -> Run:
    """Play ``count`` records per unicorn (three windows' worth unless told) from ``start_s``
    seconds after T0 through the real handler."""
    count = 3 * window_seconds if count is None else count
    arrivals = producer_arrivals(names, seed, count, 1.0, start_s)
    calls = window_calls(arrivals, window_seconds)
    table = FakeTable()
    fn = load_function(table)
    rows: list[tuple[pd.Timestamp, str]] = []
    states: dict[int, dict[str, Any]] = {}
    seq = [0]
    for k, call in enumerate(calls):
        if call.kind == "batch":
            # The model's batches are one poll second of one window (POLL_SECONDS is 1).
            mine = [a for a in arrivals if math.floor(a[1]) == math.floor(call.second)
                    and window_of(a[1], window_seconds) == call.window]
            when = T0 + pd.Timedelta(seconds=call.second + BATCH_DELAY_S)
        else:
            mine = []
            when = T0 + pd.Timedelta(seconds=(call.window + 1) * window_seconds + FINAL_DELAY_S)
        event = _event(call, mine, window_seconds, states.get(call.window, {}), seq)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), _table_name():
            states[call.window] = fn.handler(event, None)["state"]
        rid = f"{k:08x}-aaaa-bbbb-cccc-{k:012x}"
        lines = [f"START RequestId: {rid} Version: $LATEST", *printed.getvalue().splitlines(),
                 f"END RequestId: {rid}", f"REPORT RequestId: {rid}\tDuration: 1.50 ms"]
        rows += [(when, line) for line in lines]
    logs = pd.DataFrame([{"time": t, "log_stream": "2024/05/01/[$LATEST]0123", "message": m}
                         for t, m in rows])
    return Run(calls, logs, items_to_frame(list(table.items.values())), window_seconds)
