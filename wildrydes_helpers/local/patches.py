"""Changes to moto's behaviour that the local cloud needs, applied once per server process.

moto is a test double; the local cloud is a teaching cloud. These patches close the gaps
listed in DESIGN.md ("moto, with these known traps").
"""

from __future__ import annotations

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
    _applied = True
