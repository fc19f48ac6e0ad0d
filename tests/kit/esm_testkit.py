"""Helpers for the event source mapping tests: a recording function, a stream, waiting.

The recording function appends every event it receives, with the time it got it, as one
JSON line to the file named by its ``EVENTS_FILE`` variable, so a test can read exactly what
Lambda delivered. Records whose data contains ``poison`` make it raise; ``FAIL_ALL=1``
makes every call raise; ``FAIL_FINAL=<n>`` makes the first n final invocations raise
(counted in a file); a record containing ``bigstate`` makes it return a state over 1 MB.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from wildrydes_helpers.function_zip import build_zip
from wildrydes_helpers.iam import TRUST_POLICY

T = TypeVar("T")

RECORDER_SOURCE = '''
import base64, json, os, time

def handler(event, context):
    path = os.environ["EVENTS_FILE"]
    with open(path, "a") as out:
        out.write(json.dumps({"at": time.time(), "event": event}) + "\\n")
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    if os.environ.get("FAIL_ALL") == "1":
        raise RuntimeError("failing on purpose")
    if any("poison" in d for d in datas):
        raise ValueError("poison record")
    fail_final = int(os.environ.get("FAIL_FINAL", "0"))
    if event.get("isFinalInvokeForWindow") and fail_final:
        counter = path + ".finals"
        seen = int(open(counter).read()) if os.path.exists(counter) else 0
        with open(counter, "w") as out:
            out.write(str(seen + 1))
        if seen < fail_final:
            raise RuntimeError("final invocation failing on purpose")
    if "window" not in event:
        return None
    state = dict(event["state"])
    state["count"] = state.get("count", 0) + len(datas)
    state["data"] = state.get("data", []) + datas
    if any("bigstate" in d for d in datas):
        state["padding"] = "x" * 1_100_000
    return {"state": state}
'''


def zip_source(source: str, name: str = "index.py") -> bytes:
    """A deployment package holding one module."""
    return build_zip(files={name: source})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ensure_role(lab: Any, name: str = "esm-test-role") -> str:
    iam = lab.client("iam")
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name,
                               AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))["Role"]["Arn"]


def make_function(lab: Any, name: str, env: dict[str, str], source: str = RECORDER_SOURCE,
                  timeout: int = 5) -> str:
    """Create a Python function; return its ARN."""
    role = ensure_role(lab)
    out = lab.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
        Code={"ZipFile": zip_source(source)}, Timeout=timeout,
        Environment={"Variables": env},
    )
    return out["FunctionArn"]


def make_stream(lab: Any, name: str, shards: int = 1) -> str:
    """Create a stream; return its ARN."""
    kinesis = lab.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamARN"]


def put(lab: Any, stream: str, data: str, key: str = "k") -> dict[str, Any]:
    return lab.client("kinesis").put_record(StreamName=stream, Data=data.encode(),
                                            PartitionKey=key)


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, step: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def read_timed(path: Path) -> list[tuple[float, dict[str, Any]]]:
    """(time the function received it, event) for every event recorded in ``path``."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(line["at"], line["event"]) for line in lines]


def read_events(path: Path) -> list[dict[str, Any]]:
    return [event for _, event in read_timed(path)]


def data_of(event: dict[str, Any]) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]


def finals(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("isFinalInvokeForWindow")]


def wait_until_second_fraction(low: float, high: float, period: int = 1) -> None:
    """Sleep until ``time() % period`` lies in [low, high): early in a window, say."""
    while not low <= time.time() % period < high:
        time.sleep(0.005)
