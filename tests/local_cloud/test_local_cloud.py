"""The local cloud process: lifecycle, where it listens, and the moto traps it closes.

The lifecycle tests run a private local cloud (own WILDRYDES_HOME and port) so that the test
run's shared cloud is never disturbed; the API tests use the shared one (``lab``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import botocore.exceptions
import pytest

from tests.kit.esm_testkit import zip_source
from tests.kit.sockets_kit import listening_sockets
from wildrydes_helpers import processes
from wildrydes_helpers.config import load_config
from wildrydes_helpers.iam import TRUST_POLICY
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.session import local_credentials


@pytest.fixture
def private_env(tmp_path, free_port) -> Iterator[dict[str, str]]:
    env = dict(os.environ, WILDRYDES_HOME=str(tmp_path / "home"),
               WILDRYDES_LOCAL_PORT=str(free_port))
    yield env
    # Whatever happened in the test, stop what it started (by its recorded pid).
    local_cloud.stop(load_config(env))


def _wildrydes(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wildrydes_helpers", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _pid_gone(pid: int) -> bool:
    return not processes.is_alive(pid)  # a zombie counts as gone: it has exited


def test_lifecycle(private_env):
    port = int(private_env["WILDRYDES_LOCAL_PORT"])
    cfg = load_config(private_env)
    endpoint = f"http://127.0.0.1:{port}"

    started = _wildrydes(private_env, "local", "start")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().splitlines()[-1] == endpoint
    pid = json.loads(local_cloud.state_path(cfg).read_text())["pid"]

    status = _wildrydes(private_env, "local", "status")
    assert status.returncode == 0 and status.stdout.strip() == endpoint

    again = _wildrydes(private_env, "local", "start")
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == endpoint
    # reused, not restarted
    assert json.loads(local_cloud.state_path(cfg).read_text())["pid"] == pid

    listeners = listening_sockets(port)
    assert listeners, "nothing listens on the local cloud's port"
    assert listeners == [("IPv4", "127.0.0.1")]  # 127.0.0.1 only, no IPv6, no 0.0.0.0

    stopped = _wildrydes(private_env, "local", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    deadline = time.monotonic() + 5
    while not _pid_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pid_gone(pid)
    assert not local_cloud.state_path(cfg).exists()

    stopped_again = _wildrydes(private_env, "local", "stop")
    assert stopped_again.returncode == 0 and "not running" in stopped_again.stdout
    after = _wildrydes(private_env, "local", "status")
    assert after.returncode == 1 and "not running" in after.stdout
    assert listening_sockets(port) == []


def test_port_taken_by_another_program(private_env):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        proc = _wildrydes(private_env, "local", "start", "--port", str(port))  # bounded: 60 s
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"Port {port}" in proc.stderr and "WILDRYDES_LOCAL_PORT" in proc.stderr
    cfg = load_config(private_env)
    assert not local_cloud.state_path(cfg).exists()
    # Refused before anything was started: no server process ever opened its log.
    assert not local_cloud.log_path(cfg).exists()


def test_managed_policy_for_kinesis_exists(lab):
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
    policy = lab.client("iam").get_policy(PolicyArn=arn)["Policy"]
    assert policy["PolicyName"] == "AWSLambdaKinesisExecutionRole"


@pytest.mark.parametrize("service, call", [("ec2", "describe_instances"),
                                           ("s3", "list_buckets"),
                                           ("secretsmanager", "list_secrets")])
def test_unknown_service_gets_a_clear_error(lab, service, call):
    client = lab.boto.client(service, region_name=lab.config.region, endpoint_url=lab.endpoint)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        getattr(client, call)()
    error = info.value.response["Error"]
    assert error["Code"] == "UnknownServiceException"
    assert f"'{service}'" in error["Message"]
    for served in ("dynamodb", "kinesis", "lambda", "logs"):
        assert served in error["Message"]


def test_aws_cli_works_against_it(lab):
    aws = Path(sys.executable).parent / "aws"
    home = local_credentials(lab.config)
    env = dict(os.environ, AWS_ENDPOINT_URL=lab.endpoint, AWS_ACCESS_KEY_ID=home.access_key_id,
               AWS_SECRET_ACCESS_KEY=home.secret_access_key, AWS_DEFAULT_REGION=lab.config.region)
    proc = subprocess.run([str(aws), "dynamodb", "list-tables", "--output", "json"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout)["TableNames"], list)


def test_werkzeug_does_not_log_requests(lab):
    for _ in range(3):
        lab.client("dynamodb").list_tables()
    log = local_cloud.log_path(lab.config).read_text(errors="replace")
    assert "listening on" in log  # the right file: the server's own startup line is there
    assert not re.search(r'"(GET|POST|PUT|DELETE|HEAD) \S+ HTTP/1\.[01]" \d{3}', log)



def test_disabled_mapping_delivers_nothing_and_moto_trigger_is_unhooked(lab):
    suffix = uuid.uuid4().hex[:8]
    iam, fn, kinesis, logs = (lab.client(s) for s in ("iam", "lambda", "kinesis", "logs"))
    role_arn = iam.create_role(
        RoleName=f"test-unhook-{suffix}",
        AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
    )["Role"]["Arn"]
    name = f"test-unhook-{suffix}"
    fn.create_function(FunctionName=name, Runtime="python3.11", Role=role_arn,
                       Handler="index.handler",
                       Code={"ZipFile": zip_source("def handler(e, c):\n    print('ran')\n")})
    stream = f"test-unhook-{suffix}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(
        StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    try:
        try:
            mapping = fn.create_event_source_mapping(
                EventSourceArn=stream_arn, FunctionName=name, StartingPosition="LATEST",
                Enabled=False, TumblingWindowInSeconds=0)
        except botocore.exceptions.ClientError as exc:
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 501:
                pytest.skip("this build of the local cloud has no event source mapping API")
            raise
        kinesis.put_record(StreamName=stream, Data=b'{"Name": "Shadowfax"}',
                           PartitionKey="Shadowfax")
        time.sleep(1.0)  # moto's trigger would have run inside PutRecord; ours polls each second
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
        assert groups == []
        seen = fn.get_event_source_mapping(UUID=mapping["UUID"])
        assert seen["State"] in ("Disabled", "Disabling")
        assert "docker" not in local_cloud.log_path(lab.config).read_text(errors="replace").lower()
        fn.delete_event_source_mapping(UUID=mapping["UUID"])
    finally:
        fn.delete_function(FunctionName=name)
        kinesis.delete_stream(StreamName=stream)
        iam.delete_role(RoleName=f"test-unhook-{suffix}")
