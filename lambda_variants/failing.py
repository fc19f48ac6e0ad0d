"""The lab's function, made to fail on purpose for a chosen unicorn (notebook 07).

Every batch that holds a record of a unicorn named in ``failure_lab.json`` (``fail_for``)
raises an error, as a bug would; batches without such a record, and every final invocation
(it has no records), run the lab's own code (``aggregator.py``) unchanged.
"""

import json
import os

import aggregator

_SETTINGS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failure_lab.json")
with open(_SETTINGS_FILE, encoding="utf-8") as _f:
    FAIL_FOR = set(json.load(_f).get("fail_for", []))


def record_name(record: dict) -> str | None:
    """The record's unicorn name, or None when the record cannot be read.

    Example
    -------
    >>> import base64
    >>> data = base64.b64encode(b'{"Name": "Pegasus", "Distance": 30}').decode()
    >>> record_name({"kinesis": {"data": data}})
    'Pegasus'
    """
    try:
        return aggregator.read_record(record)[0]
    except ValueError:
        return None


def batch_line(event: dict, fails: bool) -> dict:
    """The ``Batch:`` log line's content: shard, first and last sequence number, size."""
    records = event.get("Records") or []
    seqs = [r.get("kinesis", {}).get("sequenceNumber") for r in records]
    return {"shardId": event.get("shardId"), "first": seqs[0] if seqs else None,
            "last": seqs[-1] if seqs else None, "records": len(records),
            "final": bool(event.get("isFinalInvokeForWindow")), "fails": fails}


def handler(event: dict, context: object) -> dict:
    """Fail for a batch with a chosen unicorn's record; otherwise run the lab's handler."""
    names = [record_name(r) for r in event.get("Records") or []]
    fails = any(n in FAIL_FOR for n in names)
    aggregator.log("Batch", batch_line(event, fails))
    if fails:
        # An uncaught exception: Lambda reports it as an "Unhandled" function error.
        raise RuntimeError(f"Failing on purpose (failure lab): a record of "
                           f"{', '.join(sorted(FAIL_FOR & set(names)))} is in this batch.")
    return aggregator.handler(event, context)
