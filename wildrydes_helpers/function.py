"""Step 3: the WildRydesAggregator function and its Kinesis trigger (the tumbling window).

The function's code is ``lambda/`` of this repository, zipped reproducibly: the same code
always gives the same zip, so the same CodeSha256, so a second run of this step changes
nothing.

Example
-------
>>> from wildrydes_helpers.function import create_function
>>> create_function()          # doctest: +SKIP
03_create_function: created. ...
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import (
    FUNCTION_TABLE_ENV,
    TRIGGER_BATCH_SIZE,
    TRIGGER_BISECT_ON_ERROR,
    TRIGGER_RETRY_ATTEMPTS,
    TRIGGER_STARTING_POSITION,
    Config,
)
from .errors import PrerequisiteError, WildRydesError
from .ledger import window_start
from .session import LabSession
from .steps import NB_FUNCTION, NB_ROLE, NB_STREAM, NB_TABLE, StepResult, error_code, lab_step
from .waiting import poll_until

RUNTIME = "python3.12"
HANDLER = "index.handler"
TIMEOUT_S = 30
MEMORY_MB = 128
ROLE_PROPAGATION_S = 60.0
SETTLE_TIMEOUT_S = 120.0
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints"}


def lambda_dir() -> Path:
    """The function's source folder: ``<repo>/lambda`` beside ``<repo>/wildrydes_helpers``.

    Example
    -------
    >>> lambda_dir().name
    'lambda'
    """
    return Path(__file__).resolve().parent.parent / "lambda"


def build_zip(source: str | Path | None = None) -> bytes:
    """Zip the function's folder reproducibly (fixed dates and modes, sorted entries).

    Example
    -------
    >>> code_sha256(build_zip()) == code_sha256(build_zip())   # doctest: +SKIP
    True
    """
    root = Path(source) if source is not None else lambda_dir()
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part in _SKIP_DIRS or part.startswith(".")
                                   for part in p.relative_to(root).parts)
        and p.suffix not in (".pyc", ".pyo")
    ) if root.is_dir() else []
    if not any(p.name == "index.py" for p in files):
        raise WildRydesError(
            f"The function's code is missing: expected {root / 'index.py'}. Run the lab from "
            "a complete copy of the repository.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_DATE)
            info.external_attr = (0o100644 << 16)  # a regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return buf.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    """The CodeSha256 Lambda reports for this zip: base64 of its SHA-256.

    Example
    -------
    >>> code_sha256(b"")
    '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
    """
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def desired_configuration(cfg: Config, role: str) -> dict[str, Any]:
    """The function's settings as the lab wants them (everything but the code).

    Example
    -------
    >>> desired_configuration(Config(), "arn:r")["Environment"]
    {'Variables': {'TABLE_NAME': 'UnicornAggregation'}}
    """
    return {
        "Runtime": RUNTIME, "Handler": HANDLER, "Role": role,
        "Environment": {"Variables": {FUNCTION_TABLE_ENV: cfg.table_name}},
        "Timeout": TIMEOUT_S, "MemorySize": MEMORY_MB,
    }


def desired_trigger(cfg: Config, queue_arn: str) -> dict[str, Any]:
    """The trigger's settings of the lab (step 3), with the window length from config.

    Example
    -------
    >>> desired_trigger(Config(), "arn:q")["TumblingWindowInSeconds"]
    60
    """
    return {
        "BatchSize": TRIGGER_BATCH_SIZE,
        "StartingPosition": TRIGGER_STARTING_POSITION,
        "MaximumRetryAttempts": TRIGGER_RETRY_ATTEMPTS,
        "BisectBatchOnFunctionError": TRIGGER_BISECT_ON_ERROR,
        "TumblingWindowInSeconds": cfg.window_seconds,
        "DestinationConfig": {"OnFailure": {"Destination": queue_arn}},
    }


def configuration_differences(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """Names of the settings of ``desired`` that ``current`` does not match.

    Example
    -------
    >>> configuration_differences({"Timeout": 3, "Handler": "index.handler"},
    ...                           {"Timeout": 30, "Handler": "index.handler"})
    ['Timeout']
    """
    diffs = []
    for key, want in desired.items():
        have = current.get(key)
        if key == "Environment":
            have = (have or {}).get("Variables", {})
            want = want.get("Variables", {})
        if key == "DestinationConfig":
            have = ((have or {}).get("OnFailure") or {}).get("Destination")
            want = want["OnFailure"]["Destination"]
        if have != want:
            diffs.append(key)
    return diffs


def _check_prerequisites(lab: LabSession) -> tuple[str, str, str]:
    from .iam import role_arn
    from .stream import stream_arn
    from .table import table_arn

    found: dict[str, str] = {}
    missing = []
    for key, fn, label in (("stream", stream_arn, f"{NB_STREAM} (the stream)"),
                           ("table", table_arn, f"step 1, {NB_TABLE} (the table)"),
                           ("role", role_arn, f"step 2, {NB_ROLE} (the role)")):
        try:
            found[key] = fn(session=lab)
        except PrerequisiteError:
            missing.append(label)
    if missing:
        raise PrerequisiteError(
            f"Step 3 needs what earlier steps create. Run first: {'; '.join(missing)}.")
    return found["stream"], found["table"], found["role"]


def _function_config(lab: LabSession, name: str) -> dict[str, Any] | None:
    lam = lab.client("lambda")
    try:
        return lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return None


def _wait_function(lab: LabSession, name: str) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        conf = _function_config(lab, name) or {}
        if conf.get("State") == "Failed" or conf.get("LastUpdateStatus") == "Failed":
            raise WildRydesError(
                f"Lambda could not set up {name}: "
                f"{conf.get('StateReason') or conf.get('LastUpdateStatusReason')}")
        state_ok = conf.get("State", "Active") == "Active"
        update_ok = conf.get("LastUpdateStatus", "Successful") == "Successful"
        return conf if conf and state_ok and update_ok else None

    return poll_until(settled, SETTLE_TIMEOUT_S, what=f"function {name} to become Active")


def _with_role_retry(call: Any, **params: Any) -> Any:
    """Call Lambda, retrying while a new IAM role is not yet usable (it takes seconds on AWS)."""
    deadline = time.monotonic() + ROLE_PROPAGATION_S
    told = False
    delay = 2.0
    while True:
        try:
            return call(**params)
        except Exception as exc:
            text = str(exc)
            if (error_code(exc) != "InvalidParameterValueException"
                    or "cannot be assumed" not in text or time.monotonic() > deadline):
                raise
            if not told:
                print("Waiting for the new IAM role to become usable by Lambda "
                      "(this takes a few seconds after step 2)...", flush=True)
                told = True
            time.sleep(delay)
            delay = min(delay * 1.5, 8.0)


def _ensure_queue(lab: LabSession) -> str:
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=lab.config.failure_queue_name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])


def _find_mapping(lab: LabSession, function: str, source: str) -> dict[str, Any] | None:
    lam = lab.client("lambda")
    found = lam.list_event_source_mappings(FunctionName=function, EventSourceArn=source)
    mappings = found.get("EventSourceMappings", [])
    return mappings[0] if mappings else None


def _wait_mapping(lab: LabSession, uuid: str) -> dict[str, Any]:
    lam = lab.client("lambda")

    def enabled() -> dict[str, Any] | None:
        m = lam.get_event_source_mapping(UUID=uuid)
        return m if m.get("State", "Enabled") == "Enabled" else None

    return poll_until(enabled, SETTLE_TIMEOUT_S, what="the trigger to become Enabled")


def _ensure_function(lab: LabSession, role: str) -> tuple[str, str]:
    cfg = lab.config
    lam = lab.client("lambda")
    code = build_zip()
    sha = code_sha256(code)
    desired = desired_configuration(cfg, role)
    current = _function_config(lab, cfg.function_name)
    if current is None:
        _with_role_retry(lam.create_function, FunctionName=cfg.function_name,
                         Code={"ZipFile": code}, Publish=False,
                         Description="Sums each unicorn's distance per tumbling window.",
                         **desired)
        conf = _wait_function(lab, cfg.function_name)
        return "created", str(conf["FunctionArn"])
    _wait_function(lab, cfg.function_name)
    changes = []
    if current.get("CodeSha256") != sha:
        lam.update_function_code(FunctionName=cfg.function_name, ZipFile=code)
        _wait_function(lab, cfg.function_name)
        changes.append("code")
    diffs = configuration_differences(current, desired)
    if diffs:
        _with_role_retry(lam.update_function_configuration,
                         FunctionName=cfg.function_name, **desired)
        _wait_function(lab, cfg.function_name)
        changes.append(", ".join(diffs))
    state = f"updated ({'; '.join(changes)})" if changes else "up to date"
    return state, str(current["FunctionArn"])


def _ensure_trigger(lab: LabSession, stream: str, queue_arn: str) -> tuple[str, dict[str, Any]]:
    cfg = lab.config
    lam = lab.client("lambda")
    desired = desired_trigger(cfg, queue_arn)
    mapping = _find_mapping(lab, cfg.function_name, stream)
    if mapping is not None and mapping.get("StartingPosition") not in (
            None, desired["StartingPosition"]):
        # The starting position cannot be changed: replace the mapping.
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        poll_until(lambda: _find_mapping(lab, cfg.function_name, stream) is None or None,
                   SETTLE_TIMEOUT_S, what="the old trigger to be deleted")
        mapping = None
    if mapping is None:
        created = lam.create_event_source_mapping(
            FunctionName=cfg.function_name, EventSourceArn=stream, Enabled=True, **desired)
        return "created", _wait_mapping(lab, created["UUID"])
    diffs = configuration_differences(mapping, desired)
    if mapping.get("State") in ("Disabled", "Disabling"):
        diffs.append("Enabled")
    if not diffs:
        return "up to date", _wait_mapping(lab, mapping["UUID"])
    if mapping.get("State") != "Disabled":
        _wait_mapping(lab, mapping["UUID"])  # AWS refuses updates while one is in progress
    update = {k: v for k, v in desired.items() if k != "StartingPosition"}
    lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionName=cfg.function_name,
                                    Enabled=True, **update)
    return f"updated ({', '.join(diffs)})", _wait_mapping(lab, mapping["UUID"])


@lab_step(NB_FUNCTION)
def create_function(*, session: LabSession | None = None) -> StepResult:
    """Create or update the function, its failure queue and its Kinesis trigger.

    Needs the stream (00), the table (step 1) and the role (step 2).

    Example
    -------
    >>> create_function().details["trigger"]   # doctest: +SKIP
    'created'
    """
    assert session is not None
    cfg = session.config
    stream, _table, role = _check_prerequisites(session)
    fn_state, _arn = _ensure_function(session, role)
    queue_arn = _ensure_queue(session)
    trig_state, mapping = _ensure_trigger(session, stream, queue_arn)
    if fn_state == "created":
        status = "created"
    elif fn_state == "up to date" and trig_state == "up to date":
        status = "up to date"
    else:
        status = "updated"
    message = {
        "created": f"Created {cfg.function_name} and its Kinesis trigger.",
        "up to date": f"{cfg.function_name} and its trigger already exist and are up to date; "
                      "nothing changed.",
        "updated": f"{cfg.function_name}: function {fn_state}, trigger {trig_state}.",
    }[status]
    return StepResult(NB_FUNCTION, status, message, {
        "function": f"{cfg.function_name}: {fn_state}",
        "runtime": RUNTIME, "handler": HANDLER,
        f"environment {FUNCTION_TABLE_ENV}": cfg.table_name,
        "trigger": trig_state,
        "trigger settings": (f"batch size {mapping.get('BatchSize')}, "
                             f"{mapping.get('StartingPosition')}, "
                             f"retries {mapping.get('MaximumRetryAttempts')}, "
                             f"split batch on error {mapping.get('BisectBatchOnFunctionError')}, "
                             f"tumbling window {mapping.get('TumblingWindowInSeconds')} s"),
        "on failure": cfg.failure_queue_name,
        "trigger UUID": mapping.get("UUID"),
    })


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
    from .iam import role_arn
    from .stream import stream_arn

    assert session is not None
    cfg = session.config
    if _function_config(session, cfg.function_name) is None:
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
