"""One recorded tumbling window on one shard: two batch invocations, then the final one.

The events have the shape Lambda's Kinesis trigger sends (``Records``, ``window``, ``state``,
``shardId``, ``isFinalInvokeForWindow``, ``isWindowTerminatedEarly``); each ``state`` is what
the reference function returned to the invocation before. Batch 2 holds one broken record,
as a real stream may. Built here rather than stored as JSON so the bodies stay readable.

Example
-------
>>> [len(e["Records"]) for e in window_events()], window_events()[2]["isFinalInvokeForWindow"]
([3, 4, 0], True)
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

WINDOW = {"start": "2026-11-27T10:00:00Z", "end": "2026-11-27T10:01:00Z"}
SHARD = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes"

# (second of the window, unicorn, metres flown in that second); None: a broken record.
BATCH_1 = [(1, "Shadowfax", 30.0), (1, "Rocinante", 31.0), (2, "Shadowfax", 29.5)]
BATCH_2 = [(2, "Rocinante", 30.5), (3, "Shadowfax", 28.0), (3, "Rocinante", 29.0),
           (4, None, None)]

# What the reference function returns after each batch (the next invocation's state).
STATE_AFTER_1 = {"unicorns": {"Shadowfax": {"distance": 59.5, "records": 2},
                              "Rocinante": {"distance": 31.0, "records": 1}}}
STATE_AFTER_2 = {"unicorns": {"Shadowfax": {"distance": 87.5, "records": 3},
                              "Rocinante": {"distance": 90.5, "records": 3}}}
# What the final invocation writes: one item per unicorn, whole metres (halves up).
WRITTEN = {"Shadowfax": (88, 3), "Rocinante": (91, 3)}


def _record(seq: int, second: int, name: str | None, distance: float | None) -> dict[str, Any]:
    if name is None:
        data = base64.b64encode(b"{broken").decode()  # not JSON: a sender's bug
        key = "broken"
    else:
        body = {"Name": name, "StatusTime": f"2026-11-27 10:00:{second:02d}.000",
                "Latitude": 49.2, "Longitude": -123.1, "Distance": distance,
                "MagicPoints": 150, "HealthPoints": 150}
        data = base64.b64encode(json.dumps(body).encode()).decode()
        key = name
    number = f"4964{seq:052d}"
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": key,
                        "sequenceNumber": number, "data": data,
                        "approximateArrivalTimestamp": 1795773600.0 + second + 0.123},
            "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": f"{SHARD}:{number}", "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/unicorn-aggregation-role",
            "awsRegion": "us-east-1", "eventSourceARN": STREAM_ARN}


def _event(records: list[dict[str, Any]], state: dict[str, Any], final: bool) -> dict[str, Any]:
    return {"Records": records, "window": dict(WINDOW), "state": copy.deepcopy(state),
            "shardId": SHARD, "eventSourceARN": STREAM_ARN, "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": False}


def window_events() -> list[dict[str, Any]]:
    """Fresh copies of the window's three events: batch 1, batch 2, final.

    Example
    -------
    >>> window_events()[1]["state"] == STATE_AFTER_1
    True
    """
    first = [_record(i + 1, *r) for i, r in enumerate(BATCH_1)]
    second = [_record(len(BATCH_1) + i + 1, *r) for i, r in enumerate(BATCH_2)]
    return [_event(first, {}, False), _event(second, STATE_AFTER_1, False),
            _event([], STATE_AFTER_2, True)]
