"""WildRydesAggregator: total distance per unicorn per tumbling window.

Lambda's Kinesis trigger calls ``handler`` with a batch of records and the ``state`` that the
previous call of the same window returned. We add each record's Distance to its unicorn,
return the new state, and on the window's final call (``isFinalInvokeForWindow``) write one
item per unicorn to the DynamoDB table named by the ``TABLE_NAME`` environment variable.

State (plain JSON, kept small because Lambda caps it at 1 MB)::

    {"unicorns": {"Shadowfax": {"distance": 123.4, "records": 4}},
     "bad": {"count": 1, "reasons": {"not JSON": 1}}}

Log lines are ``print()``-ed as ``Label: {compact JSON}`` so CloudWatch filter patterns such
as ``"Final:"`` find them. A plain (non-window) Kinesis event is aggregated the same way but
nothing is written: without a window there is no final call.

Standard library and boto3 only: this file runs unchanged on AWS's python3.12 runtime.
"""

import base64
import binascii
import json
import math
import os
from decimal import ROUND_HALF_UP, Decimal, localcontext

import boto3

# A unicorn's record reports the metres flown in the last second (about 30). Anything above
# this bound is a broken sender; letting it in could make the final write fail for ever.
MAX_DISTANCE = 1_000_000_000

# Set to "1" to log each event whole as ``Event: {json}`` (events_capture.py reads them back).
LOG_EVENTS_ENV = "LOG_EVENTS"

# Made once per execution environment, in its init phase, as Lambda recommends: the first
# final invocation of a window then writes at once instead of loading the SDK's models first.
# boto3 honours AWS_REGION and AWS_ENDPOINT_URL, so the same code runs locally.
DYNAMODB = boto3.resource("dynamodb")
_TABLES = {}


def _table(name: str):
    """Return the boto3 DynamoDB Table ``name``, made once per warm environment."""
    if name not in _TABLES:
        _TABLES[name] = DYNAMODB.Table(name)
    return _TABLES[name]


def log(label: str, value: dict) -> None:
    """Print one ``Label: {json}`` line, the format the lab's log searches rely on.

    Example
    -------
    >>> log("Adding", {"name": "Shadowfax", "distance": 60.0, "records": 2})
    Adding: {"name": "Shadowfax", "distance": 60.0, "records": 2}
    """
    print(f"{label}: {json.dumps(value)}")


def read_record(record: dict) -> tuple[str, float]:
    """Decode one Kinesis record into ``(name, distance)``.

    Raises ``ValueError`` with a short reason when the record cannot be used.

    Example
    -------
    >>> data = base64.b64encode(b'{"Name": "Shadowfax", "Distance": 30}').decode()
    >>> read_record({"kinesis": {"data": data}})
    ('Shadowfax', 30)
    """
    try:
        data = record["kinesis"]["data"]
    except (KeyError, TypeError):
        raise ValueError("no kinesis data") from None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("not base64") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    try:
        item = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    if "Name" not in item:
        raise ValueError("no Name")
    name = item["Name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError("Name not a non-empty string")
    if "Distance" not in item:
        raise ValueError("no Distance")
    distance = item["Distance"]
    # bool is a subclass of int in Python, but true is not a distance.
    if isinstance(distance, bool) or not isinstance(distance, (int, float)):
        raise ValueError("Distance not a number")
    if isinstance(distance, float) and not math.isfinite(distance):
        raise ValueError("Distance not finite")
    if distance < 0:
        raise ValueError("Distance negative")
    if distance > MAX_DISTANCE:
        raise ValueError("Distance too large")
    return name, distance


def add(a: float, b: float) -> float:
    """Add two distances in decimal, so 0.1 + 0.2 stays 0.3 in the state.

    Example
    -------
    >>> add(0.1, 0.2)
    0.3
    """
    total = Decimal(repr(a)) + Decimal(repr(b))
    return float(total)


def whole_metres(distance: float) -> Decimal:
    """Round to whole metres, halves up (12.5 -> 13), like the lab's ``Math.round``.

    Python's ``round`` would give 12 (it rounds halves to even), hence Decimal.

    Example
    -------
    >>> whole_metres(12.5), whole_metres(12.49)
    (Decimal('13'), Decimal('12'))
    """
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(repr(distance)).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def check_event(event: dict) -> None:
    """Raise ``ValueError`` naming what is wrong if ``event`` is not a Kinesis event.

    Example
    -------
    >>> check_event({"Records": "oops"})
    Traceback (most recent call last):
    ValueError: event 'Records' must be a list, got str
    """
    if not isinstance(event, dict):
        raise ValueError(f"event must be a JSON object, got {type(event).__name__}")
    if "Records" not in event:
        raise ValueError("event has no 'Records' list: is this a Kinesis event?")
    if not isinstance(event["Records"], list):
        raise ValueError(f"event 'Records' must be a list, got {type(event['Records']).__name__}")
    state = event.get("state", {})
    if state is not None and not isinstance(state, dict):
        raise ValueError(f"event 'state' must be a JSON object, got {type(state).__name__}")
    if event.get("isFinalInvokeForWindow"):
        window = event.get("window")
        if not isinstance(window, dict) or "start" not in window or "end" not in window:
            raise ValueError("final invocation without 'window' {'start', 'end'}")


def aggregate(records: list, state: dict) -> dict:
    """Add a batch of records to ``state`` (changed in place) and log each unicorn's step.

    Example
    -------
    >>> aggregate([{"kinesis": {"data": "%%%"}, "eventID": "s:1"}], {})["bad"]
    Bad record: {"eventID": "s:1", "reason": "not base64"}
    {'count': 1, 'reasons': {'not base64': 1}}
    """
    unicorns = state.setdefault("unicorns", {})
    bad = state.setdefault("bad", {"count": 0, "reasons": {}})
    batch = {}  # name -> {"distance", "records"} of this batch only
    for record in records:
        try:
            name, distance = read_record(record)
        except ValueError as exc:
            reason = str(exc)
            bad["count"] += 1
            bad["reasons"][reason] = bad["reasons"].get(reason, 0) + 1
            event_id = record.get("eventID") if isinstance(record, dict) else None
            log("Bad record", {"eventID": event_id, "reason": reason})
            continue
        step = batch.setdefault(name, {"distance": 0, "records": 0})
        step["distance"] = add(step["distance"], distance)
        step["records"] += 1
    # One line per unicorn and batch, not per record: a busy shard would flood the log.
    for name, step in batch.items():
        old = unicorns.get(name, {"distance": 0.0, "records": 0})
        log("Existing", {"name": name, **old})
        log("Adding", {"name": name, **step})
        new = {
            "distance": add(old["distance"], step["distance"]),
            "records": old["records"] + step["records"],
        }
        unicorns[name] = new
        log("Returning state", {"name": name, **new})
    return state


def write_window(event: dict, state: dict) -> None:
    """Put one item per unicorn for the finished window.

    The key is (name, windowStart), so a retried final call overwrites its own items
    instead of adding duplicates. Needs the ``TABLE_NAME`` environment variable.
    """
    table_name = os.environ.get("TABLE_NAME")
    if not table_name:
        raise RuntimeError(
            "The environment variable TABLE_NAME is not set: add TABLE_NAME with the name of "
            "the aggregation table to the function's configuration, then redeploy."
        )
    table = _table(table_name)
    for name, totals in state.get("unicorns", {}).items():
        item = {
            "name": name,
            "windowStart": event["window"]["start"],
            "windowEnd": event["window"]["end"],
            "distance": whole_metres(totals["distance"]),
            "records": Decimal(totals["records"]),
            "shardId": event.get("shardId"),
        }
        log("Writing", {**item, "distance": int(item["distance"]), "records": totals["records"]})
        table.put_item(Item=item)


def handler(event: dict, context: object) -> dict:
    """Aggregate one batch; on the window's final call, write the totals to DynamoDB.

    Example
    -------
    >>> handler({"Records": []}, None)
    {'state': {'unicorns': {}, 'bad': {'count': 0, 'reasons': {}}}}
    """
    if os.environ.get(LOG_EVENTS_ENV) == "1":
        # Off by default; notebook 04 turns it on for a few minutes to show real events.
        log("Event", event)
    check_event(event)
    state = event.get("state") or {}  # the first call of a window gets {}
    if event.get("isWindowTerminatedEarly"):
        # Lambda restarted the window's state at its 1 MB limit. One small entry per unicorn
        # keeps this state far below it, so the lab should never see this line.
        log(
            "Window terminated early",
            {"window": event.get("window"), "shardId": event.get("shardId")},
        )
    aggregate(event["Records"], state)
    if event.get("isFinalInvokeForWindow"):
        log(
            "Final",
            {
                "window": event["window"],
                "shardId": event.get("shardId"),
                "isWindowTerminatedEarly": bool(event.get("isWindowTerminatedEarly")),
                "state": state,
            },
        )
        write_window(event, state)
    return {"state": state}
