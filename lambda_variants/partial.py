"""The lab's function, reporting one marked record as failed (notebook 07).

With ``FunctionResponseTypes: ["ReportBatchItemFailures"]`` on the trigger, a function can
name the first record it failed on instead of failing the whole batch. This variant treats a
record whose data holds the key named in ``failure_lab.json`` (``marker``, default
``"FailOnce"``) as failed, unless it is the first record of its batch: the mapping retries from
the reported record, so in the retry it comes first and is processed.

With a tumbling window the response is ``{"state": ..., "batchItemFailures": [...]}``: the
state of the records *before* the failed one, and the failed record's sequence number.
"""

import base64
import json
import os

import aggregator

_SETTINGS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failure_lab.json")
with open(_SETTINGS_FILE, encoding="utf-8") as _f:
    MARKER = json.load(_f).get("marker", "FailOnce")


def is_marked(record: dict) -> bool:
    """True when the record's JSON data holds the marker key with a true value.

    Example
    -------
    >>> data = base64.b64encode(b'{"Name": "Pegasus", "Distance": 30, "FailOnce": true}')
    >>> is_marked({"kinesis": {"data": data.decode()}})
    True
    """
    try:
        item = json.loads(base64.b64decode(record["kinesis"]["data"]))
    except (KeyError, TypeError, ValueError):
        return False
    return isinstance(item, dict) and item.get(MARKER) is True


def first_failed(records: list) -> int | None:
    """Index of the record to report as failed: the first marked one that is not first.

    Example
    -------
    >>> first_failed([])
    """
    for i, record in enumerate(records):
        if i > 0 and is_marked(record):
            return i
    return None


def handler(event: dict, context: object) -> dict:
    """Aggregate the records before the marked one and report the marked one as failed."""
    records = event.get("Records") or []
    at = None if event.get("isFinalInvokeForWindow") else first_failed(records)
    seqs = [r.get("kinesis", {}).get("sequenceNumber") for r in records]
    aggregator.log("Batch", {"shardId": event.get("shardId"), "first": seqs[0] if seqs else None,
                             "last": seqs[-1] if seqs else None, "records": len(records),
                             "final": bool(event.get("isFinalInvokeForWindow")),
                             "reports": seqs[at] if at is not None else None})
    if at is None:
        return aggregator.handler(event, context)
    # The state returned covers only the records before the failed one: the retry starts at it.
    head = aggregator.handler(dict(event, Records=records[:at]), context)
    failed = seqs[at]
    aggregator.log("Reporting failure", {"itemIdentifier": failed, "position": at + 1,
                                         "of": len(records)})
    return {"state": head["state"], "batchItemFailures": [{"itemIdentifier": failed}]}
