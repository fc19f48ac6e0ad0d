"""Step 3: the WildRydesAggregator function and its Kinesis trigger (the tumbling window).

The function's code is ``lambda/`` of this repository, zipped reproducibly (function_zip.py),
so a second run of this step changes nothing. The sample invocation that checks it is
sample_invoke.py.

Example
-------
>>> from wildrydes_helpers.function import create_function
>>> create_function()          # doctest: +SKIP
03_create_function: created. ...
"""

from __future__ import annotations

import time
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
from .errors import PrerequisiteError, WildRydesError, error_code, is_not_found
from .exercises.source import chosen_source, code_label
from .function_zip import build_zip, code_sha256
from .iam import role_arn
from .lab_step import lab_step
from .notebook_names import NB_FUNCTION, NB_ROLE, NB_STREAM, NB_TABLE
from .owned import function_tags, log_group_tags, queue_tags, refuse_unless_ours
from .session import LabSession
from .step_result import StepResult
from .stream import stream_arn
from .table import table_arn
from .tags import lab_tags
from .waiting import poll_until

RUNTIME = "python3.12"
HANDLER = "index.handler"
TIMEOUT_S = 30
MEMORY_MB = 128
ROLE_PROPAGATION_S = 60.0
SETTLE_TIMEOUT_S = 120.0


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


def function_configuration(lab: LabSession, name: str) -> dict[str, Any] | None:
    """The function's configuration as Lambda reports it, or None when it does not exist.

    Example
    -------
    >>> function_configuration(get_session(), "WildRydesAggregator")["Runtime"]  # doctest: +SKIP
    'python3.12'
    """
    lam = lab.client("lambda")
    try:
        return lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return None


def _wait_function(lab: LabSession, name: str) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        conf = function_configuration(lab, name) or {}
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


def _queue_url(lab: LabSession, name: str) -> str | None:
    sqs = lab.client("sqs")
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def _ensure_queue(lab: LabSession) -> str:
    """The failure queue's ARN: made with the lab's tags, or an existing one of ours."""
    sqs = lab.client("sqs")
    name = lab.config.failure_queue_name
    url = _queue_url(lab, name)
    if url is None:
        url = sqs.create_queue(QueueName=name, tags=lab_tags(lab.config))["QueueUrl"]
    else:
        refuse_unless_ours("SQS queue", name, queue_tags(lab, url), lab.config)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])


def _ensure_log_group(lab: LabSession) -> str:
    """Make the function's log group with the lab's tags before the function first runs.

    Lambda would make it on the first invocation, untagged, and clean-up could then not
    tell it from another student's. An existing group must carry this student's tags.
    """
    logs = lab.client("logs")
    name = lab.config.log_group_name
    try:
        tags = log_group_tags(lab, name)
    except Exception as exc:
        if not is_not_found(exc):
            raise
        try:
            logs.create_log_group(logGroupName=name, tags=lab_tags(lab.config))
            return "created"
        except logs.exceptions.ResourceAlreadyExistsException:  # the function ran meanwhile
            tags = log_group_tags(lab, name)
    refuse_unless_ours("log group", name, tags, lab.config)
    return "already exists"


def _find_mapping(lab: LabSession, function: str, source: str) -> dict[str, Any] | None:
    pages = lab.client("lambda").get_paginator("list_event_source_mappings").paginate(
        FunctionName=function, EventSourceArn=source)
    mappings = [m for page in pages for m in page.get("EventSourceMappings", [])]
    return mappings[0] if mappings else None


def wait_mapping(lab: LabSession, uuid: str) -> dict[str, Any]:
    """The trigger once it is Enabled (AWS refuses to update a mapping that is changing).

    Example
    -------
    >>> wait_mapping(get_session(), "52d475bb-...")["State"]      # doctest: +SKIP
    'Enabled'
    """
    lam = lab.client("lambda")

    def enabled() -> dict[str, Any] | None:
        m = lam.get_event_source_mapping(UUID=uuid)
        return m if m.get("State", "Enabled") == "Enabled" else None

    return poll_until(enabled, SETTLE_TIMEOUT_S, what="the trigger to become Enabled")


def _ensure_function(lab: LabSession, role: str, source: Path | None = None) -> tuple[str, str]:
    cfg = lab.config
    lam = lab.client("lambda")
    code = build_zip(source)  # None: the lab's lambda/
    sha = code_sha256(code)
    desired = desired_configuration(cfg, role)
    current = function_configuration(lab, cfg.function_name)
    if current is None:
        _with_role_retry(lam.create_function, FunctionName=cfg.function_name,
                         Code={"ZipFile": code}, Publish=False,
                         Description="Sums each unicorn's distance per tumbling window.",
                         Tags=lab_tags(cfg), **desired)
        conf = _wait_function(lab, cfg.function_name)
        return "created", str(conf["FunctionArn"])
    refuse_unless_ours("Lambda function", cfg.function_name,
                       function_tags(lab, str(current["FunctionArn"])), cfg)
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
        return "created", wait_mapping(lab, created["UUID"])
    diffs = configuration_differences(mapping, desired)
    if mapping.get("State") in ("Disabled", "Disabling"):
        diffs.append("Enabled")
    if not diffs:
        return "up to date", wait_mapping(lab, mapping["UUID"])
    if mapping.get("State") != "Disabled":
        wait_mapping(lab, mapping["UUID"])  # AWS refuses updates while one is in progress
    update = {k: v for k, v in desired.items() if k != "StartingPosition"}
    lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionName=cfg.function_name,
                                    Enabled=True, **update)
    return f"updated ({', '.join(diffs)})", wait_mapping(lab, mapping["UUID"])


@lab_step(NB_FUNCTION)
def create_function(*, session: LabSession | None = None) -> StepResult:
    """Create or update the function, its failure queue and its Kinesis trigger.

    Needs the stream (00), the table (step 1) and the role (step 2). A function, queue or
    log group of the lab's name without the lab's tags for this prefix (another student's,
    or one made by hand) raises ResourceMismatchError and is left as it is.

    Example
    -------
    >>> create_function().details["trigger"]   # doctest: +SKIP
    'created'
    """
    assert session is not None
    cfg = session.config
    stream, _table, role = _check_prerequisites(session)
    _ensure_log_group(session)
    # The lab's lambda/ unless the student deployed their handler (03's exercise).
    source = chosen_source(cfg)
    fn_state, _arn = _ensure_function(session, role, source)
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
        "code": code_label(source),
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
