"""`wildrydes doctor`: one line per check, exit 1 with a FAIL line that says what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import botocore.credentials

from wildrydes_helpers import doctor
from wildrydes_helpers.config import load_config
from wildrydes_helpers.local import process as local_cloud


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wildrydes_helpers", "doctor"], env=env,
                          capture_output=True, text=True, timeout=90)


def _no_aws_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") or k in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    for var, name in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "creds")):
        (tmp_path / name).write_text("")
        env[var] = str(tmp_path / name)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def test_healthy_setup(lab):
    proc = _doctor(dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines and all(line.startswith("ok   ") for line in lines), lines
    names = [line.split()[1] for line in lines]
    for name in ("python", "boto3", "moto", "pandas", "matplotlib", "jupyterlab", "ipywidgets",
                 "tqdm", "local"):
        assert name in names
    assert f"ok   local cloud {lab.endpoint} (already running" in lines[-1]


def test_port_taken_by_another_program(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        env = dict(os.environ, WILDRYDES_HOME=str(tmp_path / "home"),
                   WILDRYDES_LOCAL_PORT=str(port))
        try:
            proc = _doctor(env)
        finally:
            local_cloud.stop(load_config(env))
    assert proc.returncode == 1
    fail = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail) == 1 and fail[0].startswith("FAIL local cloud: ")
    assert f"Port {port}" in fail[0] and "export WILDRYDES_LOCAL_PORT=" in fail[0]


def test_aws_mode_without_credentials(tmp_path):
    env = _no_aws_env(tmp_path)
    env.update(WILDRYDES_BACKEND="aws", WILDRYDES_HOME=str(tmp_path / "home"))
    proc = _doctor(env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    fail = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail) == 1 and fail[0].startswith("FAIL aws credentials: ")
    assert "aws configure" in fail[0]
    assert "ok   aws region us-east-1 (from AWS_REGION)" in proc.stdout
    assert "ok   local cloud" not in proc.stdout
    assert not local_cloud.state_path(load_config(env)).exists()  # aws mode starts no local cloud


def test_local_mode_never_reads_aws_credentials(lab, monkeypatch):
    def _refuse(*args, **kwargs):
        raise AssertionError("the AWS credential chain was consulted in local mode")

    monkeypatch.setattr(botocore.credentials, "create_credential_resolver", _refuse)
    results = doctor.run_checks(load_config())
    assert all(r.ok for r in results), [r.line() for r in results]
    assert results[-1].name == "local cloud"
