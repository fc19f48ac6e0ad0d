"""The helpers of 03's handler exercise: read a batch, log, write a window. Not the exercise.

The student writes only the aggregation: how a batch's records change the window's
``state``. This file does the rest the same way ``lambda/index.py`` does, and goes into the
student's deployment zip beside their ``index.py`` (``deploy_my_handler``), so it imports
nothing but the standard library and boto3, exactly as Lambda's python3.12 runtime offers.

The state the lab uses (``write_window`` reads it)::

    {"unicorns": {"Shadowfax": {"distance": 59.5, "records": 2}}}

Example
-------
>>> import base64, json
>>> data = base64.b64encode(json.dumps({"Name": "Shadowfax", "Distance": 30}).encode()).decode()
>>> read_batch([{"kinesis": {"data": data}}])
Adding: {"name": "Shadowfax", "distance": 30.0, "records": 1}
[('Shadowfax', 30.0)]
"""

import base64
import json
import math
import os
from decimal import ROUND_HALF_UP, Decimal

import boto3

__all__ = ["log", "read_record", "read_batch", "log_final", "whole_metres", "write_window"]

_TABLES: dict = {}


def log(label: str, value: dict) -> None:
    """Print one ``Label: {json}`` line, the format 04's log reading relies on.

    Example
    -------
    >>> log("Final", {"window": {"start": "a"}})
    Final: {"window": {"start": "a"}}
    """
    print(f"{label}: {json.dumps(value)}")


def read_record(record: dict) -> tuple:
    """``(name, distance)`` of one Kinesis record; ``ValueError`` when it cannot be used.

    Example
    -------
    >>> read_record({"kinesis": {"data": "%%%"}})
    Traceback (most recent call last):
    ValueError: not a unicorn's record: base64 JSON with Name and Distance expected
    """
    try:
        item = json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))
        name, distance = item["Name"], item["Distance"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            "not a unicorn's record: base64 JSON with Name and Distance expected") from None
    if (not isinstance(name, str) or not name or isinstance(distance, bool)
            or not isinstance(distance, int | float) or not math.isfinite(distance)
            or distance < 0):
        raise ValueError("not a unicorn's record: a Name and a Distance >= 0 expected")
    return name, float(distance)


def read_batch(records: list) -> list:
    """The ``(name, distance)`` of each readable record, in order; broken ones are logged.

    It also logs one ``Adding`` line per unicorn of the batch (04 counts records from them).
    A broken record is skipped, not raised: one bad record must not fail the whole batch.

    Example
    -------
    >>> read_batch([{"kinesis": {"data": "%%%"}, "eventID": "s:1"}])
    Bad record: {"eventID": "s:1", "reason": "not a unicorn's record: base64 JSON with Name and Distance expected"}
    []
    """  # noqa: E501
    good = []
    for record in records:
        try:
            good.append(read_record(record))
        except ValueError as exc:
            event_id = record.get("eventID") if isinstance(record, dict) else None
            log("Bad record", {"eventID": event_id, "reason": str(exc)})
    batch: dict = {}
    for name, distance in good:
        step = batch.setdefault(name, {"distance": 0.0, "records": 0})
        step["distance"] += distance
        step["records"] += 1
    for name, step in batch.items():
        log("Adding", {"name": name, **step})
    return good


def log_final(event: dict, state: dict) -> None:
    """Log the window's ``Final`` line (04 reads the window's totals from it).

    Example
    -------
    >>> log_final({"window": {"start": "a", "end": "b"}, "shardId": "s"}, {})
    Final: {"window": {"start": "a", "end": "b"}, "shardId": "s", "isWindowTerminatedEarly": false, "state": {}}
    """  # noqa: E501
    log("Final", {"window": event.get("window"), "shardId": event.get("shardId"),
                  "isWindowTerminatedEarly": bool(event.get("isWindowTerminatedEarly")),
                  "state": state})


def whole_metres(distance: float) -> Decimal:
    """Whole metres, halves up (12.5 -> 13), as the lab's reference function rounds.

    Example
    -------
    >>> whole_metres(87.5)
    Decimal('88')
    """
    return Decimal(repr(float(distance))).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _table(name: str):
    """The DynamoDB table ``name``, made once per warm environment (boto3 reads the region)."""
    if name not in _TABLES:
        _TABLES[name] = boto3.resource("dynamodb").Table(name)
    return _TABLES[name]


def write_window(event: dict, state: dict) -> None:
    """Put one item per unicorn of ``state["unicorns"]`` for the window of ``event``.

    The key (name, windowStart) makes a repeated final call overwrite its own items.
    Needs the ``TABLE_NAME`` environment variable, which the lab's function has.
    """
    table_name = os.environ.get("TABLE_NAME")
    if not table_name:
        raise RuntimeError("The environment variable TABLE_NAME is not set: the function's "
                           "configuration must name the aggregation table.")
    for name, totals in (state.get("unicorns") or {}).items():
        item = {"name": name, "windowStart": event["window"]["start"],
                "windowEnd": event["window"]["end"],
                "distance": whole_metres(totals["distance"]),
                "records": Decimal(int(totals["records"])), "shardId": event.get("shardId")}
        log("Writing", {**item, "distance": int(item["distance"]),
                        "records": int(totals["records"])})
        _table(table_name).put_item(Item=item)
