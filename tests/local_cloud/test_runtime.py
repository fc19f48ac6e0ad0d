"""The local cloud's Lambda runtime and Invoke API (local/lambda_/: runtime, worker, invoke_api).

Most tests create small functions from in-memory zips on the test run's local cloud and
invoke them through boto3, the AWS CLI or plain HTTP, as a student would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import botocore.exceptions
import psutil
import pytest

from tests.kit.esm_testkit import ensure_role, zip_source
from wildrydes_helpers import faults_client, processes
from wildrydes_helpers.local.credentials import read_credentials
from wildrydes_helpers.session import local_credentials

ROLE_NAME = "runtime-test-role"
STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")

# One function source that the tests steer through the event.
PROBE = textwrap.dedent('''
    import json, logging, os, sys, time

    COUNT = 0
    print("module loaded")

    def handler(event, context):
        global COUNT
        COUNT += 1
        action = event.get("action", "")
        print("event", json.dumps(event))
        if action == "sleep":
            time.sleep(event["seconds"])
            print("woke up")
        met = None
        if action == "meet":
            # Wait (bounded) until `count` invocations are inside the handler at once.
            open(os.path.join(event["folder"], context.aws_request_id), "w").close()
            give_up = time.time() + event["within"]
            while len(os.listdir(event["folder"])) < event["count"] and time.time() < give_up:
                time.sleep(0.01)
            met = len(os.listdir(event["folder"]))
        if action == "raise":
            raise ValueError("the probe was asked to fail")
        if action == "exit":
            os._exit(3)
        if action == "log":
            logging.getLogger().warning("a warning line")
            print("to stderr", file=sys.stderr)
        first = context.get_remaining_time_in_millis()
        time.sleep(0.02)
        second = context.get_remaining_time_in_millis()
        return {
            "count": COUNT, "pid": os.getpid(), "env": dict(os.environ),
            "context": {k: getattr(context, k) for k in (
                "function_name", "function_version", "invoked_function_arn",
                "memory_limit_in_mb", "aws_request_id", "log_group_name", "log_stream_name")},
            "remaining": [first, second], "met": met,
        }
''')


def make_zip(source: str, module: str = "index") -> bytes:
    return zip_source(source, f"{module}.py")


@pytest.fixture(scope="module")
def role_arn(lab: Any) -> str:
    return ensure_role(lab, ROLE_NAME)


@pytest.fixture
def make_function(lab: Any, role_arn: str):
    created: list[str] = []

    def _make(name: str, source: str = PROBE, timeout: int = 3, memory: int = 128,
              env: dict[str, str] | None = None, handler: str = "index.handler") -> str:
        lab.client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=role_arn, Handler=handler,
            Code={"ZipFile": make_zip(source)}, Timeout=timeout, MemorySize=memory,
            Environment={"Variables": env or {}},
        )
        created.append(name)
        return name

    yield _make
    for name in created:
        with contextlib.suppress(botocore.exceptions.ClientError):
            lab.client("lambda").delete_function(FunctionName=name)


def invoke(lab: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict, Any]:
    response = lab.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def log_messages(lab: Any, name: str) -> list[tuple[str, list[str]]]:
    logs = lab.client("logs")
    try:
        streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [(s["logStreamName"], [e["message"] for e in logs.get_log_events(
        logGroupName=f"/aws/lambda/{name}", logStreamName=s["logStreamName"],
        startFromHead=True)["events"]]) for s in streams]


def set_faults(lab: Any, settings: dict[str, Any]) -> None:
    faults_client.set_faults(lab, **settings)


# -- against the local cloud ----------------------------------------------------------------

def test_module_is_imported_once_per_worker(lab: Any, make_function: Any) -> None:
    name = make_function("rt-warm")
    counts = [invoke(lab, name)[1]["count"] for _ in range(3)]
    assert counts == [1, 2, 3]


def test_environment_variables_and_endpoint(lab: Any, make_function: Any) -> None:
    name = make_function("rt-env", env={"TABLE_NAME": "t1"}, memory=256)
    env = invoke(lab, name)[1]["env"]
    assert env["TABLE_NAME"] == "t1"
    assert env["AWS_ENDPOINT_URL"] == lab.endpoint
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert STREAM_NAME.match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    # The home's own key pair, as Lambda hands a function its role's credentials.
    home_keys = read_credentials(lab.config.home)
    assert home_keys is not None
    assert env["AWS_ACCESS_KEY_ID"] == home_keys.access_key_id
    assert env["AWS_SECRET_ACCESS_KEY"] == home_keys.secret_access_key
    assert "AWS_SESSION_TOKEN" not in env
    assert env["AWS_SDK_UA_APP_ID"] == "wildrydes-fn"
    # Nothing of the server's own environment beyond what Python needs.
    assert "AWS_PROFILE" not in env
    assert "WILDRYDES_HOME" not in env
    assert "WILDRYDES_LOCAL_PORT" not in env


def test_context_fields(lab: Any, make_function: Any) -> None:
    name = make_function("rt-context", memory=512, timeout=2)
    response, body = invoke(lab, name)
    ctx = body["context"]
    assert ctx["function_name"] == name
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == \
        f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert ctx["memory_limit_in_mb"] == 512
    assert ctx["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert STREAM_NAME.match(ctx["log_stream_name"])
    first, second = body["remaining"]
    assert 0 < second < first <= 2000


def test_timeout_kills_the_worker_and_the_next_call_works(lab: Any, make_function: Any) -> None:
    name = make_function("rt-timeout", timeout=1)
    before = invoke(lab, name)[1]["pid"]
    response, body = invoke(lab, name, {"action": "sleep", "seconds": 5}, LogType="Tail")
    # Killed at the timeout, not after its sleep: gone by the time the answer is here, and
    # the handler never got past the sleep.
    assert not processes.is_alive(before), "the timed-out worker still runs"
    assert response["FunctionError"] == "Unhandled"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", body["errorMessage"])
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in tail
    assert "Status: timeout" in tail
    assert "woke up" not in tail
    after = invoke(lab, name)[1]
    assert after["count"] == 1 and after["pid"] != before  # a fresh environment


def test_worker_crash_is_a_function_error(lab: Any, make_function: Any) -> None:
    name = make_function("rt-crash")
    before = invoke(lab, name)[1]["pid"]
    response, body = invoke(lab, name, {"action": "exit"})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in body["errorMessage"]
    after = invoke(lab, name)[1]
    assert after["pid"] != before and after["count"] == 1


def test_unhandled_exception_payload(lab: Any, make_function: Any) -> None:
    name = make_function("rt-raise")
    response, body = invoke(lab, name, {"action": "raise"}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "the probe was asked to fail"
    assert isinstance(body["stackTrace"], list)
    assert any("index.py" in line and "handler" in line for line in body["stackTrace"])
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] ValueError: the probe was asked to fail\nTraceback" in tail
    # The worker survives an exception: its module state carries on.
    assert invoke(lab, name)[1]["count"] == 2


def test_logs_have_lambda_lines_in_order(lab: Any, make_function: Any) -> None:
    name = make_function("rt-logs")
    response, _ = invoke(lab, name, {"action": "log"})
    request_id = response["ResponseMetadata"]["RequestId"]
    streams = log_messages(lab, name)
    assert len(streams) == 1
    stream, messages = streams[0]
    assert STREAM_NAME.match(stream)
    assert messages[0].startswith("INIT_START")
    assert messages[1] == "module loaded\n"
    start = messages.index(f"START RequestId: {request_id} Version: $LATEST\n")
    end = messages.index(f"END RequestId: {request_id}\n")
    assert start < end == len(messages) - 2
    between = messages[start + 1:end]
    assert between[0].startswith("event {")
    assert any(m.startswith("[WARNING]\t") and m.rstrip().endswith("a warning line")
               and request_id in m for m in between)
    assert "to stderr\n" in between
    report = re.match(rf"^REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\t"
                      r"Billed Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: (\d+) MB"
                      r"\tInit Duration: ([\d.]+) ms\n$", messages[-1])
    assert report, messages[-1]
    assert float(report.group(2)) > 0
    # The worker's own resident memory: a Python interpreter alone holds several MB.
    assert 5 <= int(report.group(1)) < 1024
    # A warm call reuses the worker: its REPORT carries no Init Duration.
    warm_id = invoke(lab, name)[0]["ResponseMetadata"]["RequestId"]
    warm = [m for _, msgs in log_messages(lab, name) for m in msgs
            if m.startswith(f"REPORT RequestId: {warm_id}\t")]
    assert len(warm) == 1 and "Init Duration" not in warm[0], warm


def test_log_type_tail(lab: Any, make_function: Any) -> None:
    name = make_function("rt-tail")
    invoke(lab, name)
    response, _ = invoke(lab, name, {"hello": "tail"}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    lines = tail.splitlines()
    assert lines[0].startswith("START RequestId:")
    assert lines[1] == 'event {"hello": "tail"}'
    assert lines[2].startswith("END RequestId:")
    assert lines[3].startswith("REPORT RequestId:")
    assert "LogResult" not in invoke(lab, name)[0]


def test_event_and_dry_run(lab: Any, make_function: Any) -> None:
    name = make_function("rt-event")
    client = lab.client("lambda")
    dry = client.invoke(FunctionName=name, InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    assert log_messages(lab, name) == []  # a dry run runs nothing
    event = client.invoke(FunctionName=name, InvocationType="Event",
                          Payload=json.dumps({"marker": "async-1"}))
    assert event["StatusCode"] == 202
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [m for _, msgs in log_messages(lab, name) for m in msgs if "async-1" in m]
        if found:
            break
        time.sleep(0.05)
    assert found, "the Event invocation never ran"


def test_unknown_function_is_404(lab: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        lab.client("lambda").invoke(FunctionName="rt-no-such-function", Payload=b"{}")
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == ("Function not found: arn:aws:lambda:us-east-1:"
                                         "123456789012:function:rt-no-such-function")


def test_invalid_json_is_400(lab: Any, make_function: Any) -> None:
    name = make_function("rt-badjson")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        lab.client("lambda").invoke(FunctionName=name, Payload=b"{not json")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert "Could not parse request body into json" in info.value.response["Error"]["Message"]


def test_code_and_configuration_updates_take_effect(lab: Any, make_function: Any) -> None:
    name = make_function("rt-update", env={"COLOUR": "red"})
    first = invoke(lab, name)[1]
    assert first["env"]["COLOUR"] == "red"
    client = lab.client("lambda")
    client.update_function_configuration(FunctionName=name,
                                         Environment={"Variables": {"COLOUR": "blue"}})
    assert invoke(lab, name)[1]["env"]["COLOUR"] == "blue"
    client.update_function_code(FunctionName=name, ZipFile=make_zip(
        "def handler(event, context):\n    return {'version': 2}\n"))
    assert invoke(lab, name)[1] == {"version": 2}


def test_import_error_is_reported(lab: Any, make_function: Any) -> None:
    name = make_function("rt-import", handler="missing.handler")
    response, body = invoke(lab, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'missing'" in body["errorMessage"]


def test_concurrent_invocations_scale_out(lab: Any, make_function: Any,
                                          tmp_path: Path) -> None:
    name = make_function("rt-concurrent", timeout=30)
    invoke(lab, name)
    results: list[dict] = []
    meet = {"action": "meet", "folder": str(tmp_path), "count": 4, "within": 20}

    def call() -> None:
        results.append(invoke(lab, name, meet)[1])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # In parallel, not one after another: every call saw all four inside the handler at once
    # (run one at a time, the first would wait out `within` alone and see only itself).
    assert [r["met"] for r in results] == [4] * 4, results
    assert len({r["pid"] for r in results}) == 4


def test_deleting_the_function_stops_its_worker(lab: Any, make_function: Any) -> None:
    name = make_function("rt-delete")
    pid = invoke(lab, name)[1]["pid"]
    lab.client("lambda").delete_function(FunctionName=name)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and psutil.pid_exists(pid):
        time.sleep(0.02)
    assert not psutil.pid_exists(pid)


def test_aws_cli_invoke_runs_the_handler(lab: Any, make_function: Any, tmp_path: Path) -> None:
    name = make_function("rt-cli")
    out = tmp_path / "out.json"
    aws = Path(sys.executable).with_name("aws")
    home = local_credentials(lab.config)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=home.access_key_id,
               AWS_SECRET_ACCESS_KEY=home.secret_access_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.pop("AWS_PROFILE", None)
    version = subprocess.run([str(aws), "--version"], env=env, capture_output=True, text=True)
    # AWS CLI v2 reads --payload as base64 unless told otherwise; v1 takes it raw.
    raw = ["--cli-binary-format", "raw-in-base64-out"] if "aws-cli/2" in (
        version.stdout + version.stderr) else []
    proc = subprocess.run(
        [str(aws), "lambda", "invoke", "--endpoint-url", lab.endpoint, "--function-name", name,
         *raw, "--payload", '{"from": "cli"}', "--log-type", "Tail", str(out)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["StatusCode"] == 200
    assert 'event {"from": "cli"}' in base64.b64decode(summary["LogResult"]).decode()
    assert json.loads(out.read_text())["count"] == 1


def test_fault_injection(lab: Any, make_function: Any) -> None:
    name = make_function("rt-faults")
    pid = invoke(lab, name)[1]["pid"]
    try:
        set_faults(lab, {"invoke_error_rate": 1.0})
        response, body = invoke(lab, name, LogType="Tail")
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "InjectedFault"
        assert "[ERROR] InjectedFault" in base64.b64decode(response["LogResult"]).decode()
        set_faults(lab, {"invoke_timeout_rate": 1.0})
        body = invoke(lab, name)[1]
        assert body["errorMessage"].endswith("Task timed out after 3.00 seconds")
        set_faults(lab, {"worker_kill_rate": 1.0})
        body = invoke(lab, name)[1]
        assert body["errorType"] == "Runtime.ExitError"
        assert body["errorMessage"].endswith("Runtime exited with error: signal: killed")
    finally:
        set_faults(lab, {})
    after = invoke(lab, name)[1]
    assert after["pid"] != pid  # the killed worker was replaced


def _gone(pid: int) -> bool:
    return not processes.is_alive(pid)  # a zombie counts as gone: it has exited


def test_workers_do_not_outlive_a_killed_local_cloud(tmp_path: Path, free_port: int) -> None:
    import boto3

    from wildrydes_helpers.config import load_config
    from wildrydes_helpers.local import process as local_cloud

    cfg = load_config(dict(os.environ, WILDRYDES_HOME=str(tmp_path / "home"),
                           WILDRYDES_LOCAL_PORT=str(free_port)))
    endpoint = local_cloud.start(cfg)
    server_pid = int(local_cloud.status(cfg)["pid"])
    try:
        home = local_credentials(cfg)
        kw = {"endpoint_url": endpoint, "region_name": "us-east-1",
              "aws_access_key_id": home.access_key_id,
              "aws_secret_access_key": home.secret_access_key}
        role = boto3.client("iam", **kw).create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", **kw)
        lam.create_function(FunctionName="rt-orphan", Runtime="python3.12", Role=role,
                            Handler="index.handler", Code={"ZipFile": make_zip(PROBE)})
        worker_pid = json.loads(lam.invoke(FunctionName="rt-orphan")["Payload"].read())["pid"]
        assert not _gone(worker_pid)
        psutil.Process(server_pid).kill()  # the server only, not its workers
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not _gone(worker_pid):
            time.sleep(0.02)
        assert _gone(worker_pid)
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(server_pid).kill()
        local_cloud.stop(cfg)
