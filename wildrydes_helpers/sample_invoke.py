"""Step 3's check: invoke the function once with a sample tumbling-window batch.

Example
-------
>>> from wildrydes_helpers.sample_invoke import test_invoke
>>> test_invoke().ok          # doctest: +SKIP
True
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import Config
from .errors import PrerequisiteError
from .function import function_configuration
from .iam import role_arn
from .lab_step import lab_step
from .ledger import window_start
from .notebook_names import NB_FUNCTION
from .session import LabSession
from .stream import stream_arn


@dataclass
class TestInvokeResult:
    """A test invocation: what was sent, what came back, and the log tail Lambda returned."""

    status_code: int
    function_error: str | None
    payload: Any
    log_tail: str
    event: dict[str, Any]
    calls: list[Any] = field(default_factory=list)

    __test__ = False  # not a pytest test class

    @property
    def ok(self) -> bool:
        return self.status_code == 200 and not self.function_error

    def __repr__(self) -> str:
        head = "ok" if self.ok else f"function error: {self.function_error}"
        return (f"test invoke: {head}\nreturned: {json.dumps(self.payload, indent=1)}\n"
                f"log tail:\n{self.log_tail}")


def sample_event(cfg: Config, stream: str, role: str, now: float | None = None,
                 name: str = "TestUnicorn") -> dict[str, Any]:
    """A tumbling-window batch (not final) of two sample records, as Lambda would send it.

    Not final on purpose: the function returns its new state and writes nothing to the
    table, so a test leaves no trace in the lab's results.

    Example
    -------
    >>> ev = sample_event(Config(), "arn:s", "arn:r", now=0.0)
    >>> ev["window"], ev["isFinalInvokeForWindow"], len(ev["Records"])
    ({'start': '1970-01-01T00:00:00Z', 'end': '1970-01-01T00:01:00Z'}, False, 2)
    """
    now = time.time() if now is None else now
    w = cfg.window_seconds
    start = window_start(now, w)
    end = window_start(now + w, w)
    shard = "shardId-000000000000"
    records = []
    for i, dist in enumerate((30.25, 29.75)):
        t = now - 0.5 + i * 0.25
        body = {"Name": name, "StatusTime": datetime.fromtimestamp(t, UTC).strftime(
            "%Y-%m-%d %H:%M:%S.%f")[:-3], "Latitude": 47.6, "Longitude": -122.3,
            "Distance": dist, "MagicPoints": 150, "HealthPoints": 150}
        seq = f"4963000000000000000000000000000000000000000000000000{i:04d}"
        records.append({
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": name,
                        "sequenceNumber": seq,
                        "data": base64.b64encode(json.dumps(body).encode()).decode(),
                        "approximateArrivalTimestamp": round(t, 3)},
            "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": f"{shard}:{seq}", "eventName": "aws:kinesis:record",
            "invokeIdentityArn": role, "awsRegion": cfg.region, "eventSourceARN": stream,
        })
    return {"Records": records, "window": {"start": start, "end": end}, "state": {},
            "shardId": shard, "eventSourceARN": stream, "isFinalInvokeForWindow": False,
            "isWindowTerminatedEarly": False}


@lab_step(NB_FUNCTION)
def test_invoke(*, session: LabSession | None = None) -> TestInvokeResult:
    """Invoke the function once with a sample batch and return its answer and log tail.

    Example
    -------
    >>> test_invoke().payload   # doctest: +SKIP
    {'state': {'TestUnicorn': {'distance': 60.0, 'records': 2}}}
    """
    assert session is not None
    cfg = session.config
    if function_configuration(session, cfg.function_name) is None:
        raise PrerequisiteError(
            f"The function {cfg.function_name} does not exist yet. Run create_function() in "
            f"{NB_FUNCTION} first.")
    event = sample_event(cfg, stream_arn(session=session), role_arn(session=session))
    resp = session.client("lambda").invoke(
        FunctionName=cfg.function_name, InvocationType="RequestResponse", LogType="Tail",
        Payload=json.dumps(event).encode())
    raw = resp["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    tail = base64.b64decode(resp.get("LogResult", "") or "").decode(errors="replace")
    return TestInvokeResult(int(resp.get("StatusCode", 0)), resp.get("FunctionError"),
                            payload, tail, event)


test_invoke.__test__ = False  # type: ignore[attr-defined]  # a lab step, not a pytest test
