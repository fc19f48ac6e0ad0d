"""Changes to moto's behaviour that the local cloud needs, applied once per server process.

moto is a test double; the local cloud is a teaching cloud. These patches close the gaps
listed in DESIGN.md ("moto, with these known traps").
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

# moto's backends are plain dicts and OrderedDicts, and moto's Kinesis shard says outright
# that put_record "is not safe for concurrency": two PutRecord calls at once can get the same
# sequence number and one record overwrites the other. Every request that reaches moto, and
# every direct read of a backend by the local cloud, holds this lock.
MOTO_LOCK = threading.RLock()

_applied = False


def apply_patches() -> None:
    """Apply every patch; safe to call more than once."""
    global _applied
    if _applied:
        return
    # Must be set before moto's IAM backend is first created.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    # moto's default account; never a real one.
    os.environ.setdefault("MOTO_ACCOUNT_ID", "123456789012")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.awslambda.models import LambdaBackend

    def _no_per_record_trigger(self: Any, *args: Any, **kwargs: Any) -> None:
        # moto would invoke the function once per PutRecord through Docker; the local
        # cloud's own event source mappings (esm.py) deliver the stream instead.
        return None

    LambdaBackend.send_kinesis_message = _no_per_record_trigger  # type: ignore[method-assign]
    _fast_dynamodb_reads()
    _applied = True


# Read results that are already plain DynamoDB JSON (moto's DynamoResult) and can be sent as
# they are. moto's generic response serializer walks the API model for every attribute of
# every item (about 0.9 ms an item): a Scan of 600 items held the local cloud for 0.4 s.
_FAST_READS = frozenset({"Scan", "Query", "GetItem"})


def _fast_dynamodb_reads() -> None:
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    generic = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        if isinstance(action_result, DynamoResult) and self._get_action() in _FAST_READS:
            try:
                body = json.dumps(action_result.result, separators=(",", ":"))
            except (TypeError, ValueError):
                return generic(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            return 200, headers, body
        return generic(self, action_result)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]
