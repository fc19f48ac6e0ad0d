"""Two homes on one machine (two users of a school's JupyterHub): each gets its own cloud.

When WILDRYDES_LOCAL_PORT is not set, the default port is only a first choice. A home that
finds it held by another home's local cloud, or by any other program, takes a free port and
records it in its state file, where every kernel and CLI call of that home finds it.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.errors import LocalCloudError
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.producer import background
from wildrydes_helpers.session import local_credentials


def _home(root: Path, name: str, port: int, fixed: bool = False) -> Config:
    base = load_config({"WILDRYDES_HOME": str(root / name)})
    return dataclasses.replace(base, local_port=port, local_port_fixed=fixed)


@pytest.fixture
def homes(tmp_path: Path, free_port: int) -> Iterator[tuple[Config, Config]]:
    first, second = _home(tmp_path, "ada", free_port), _home(tmp_path, "bo", free_port)
    yield first, second
    for cfg in (first, second):
        local_cloud.stop(cfg)


def _dynamodb(endpoint: str, cfg: Config):
    home = local_credentials(cfg)
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=home.access_key_id,
                        aws_secret_access_key=home.secret_access_key)


def _tables(endpoint: str, cfg: Config) -> list[str]:
    return _dynamodb(endpoint, cfg).list_tables()["TableNames"]


def test_a_second_home_on_the_default_port_gets_its_own_cloud(homes) -> None:
    first, second = homes
    first_endpoint = local_cloud.start(first)
    assert first_endpoint.endswith(f":{first.local_port}")
    second_endpoint = local_cloud.start(second)
    assert second_endpoint != first_endpoint  # not adopted: a cloud of its own

    a, b = local_cloud.status(first), local_cloud.status(second)
    assert a is not None and b is not None
    assert a["boot_id"] != b["boot_id"] and a["pid"] != b["pid"]
    # Every later call of the second home finds its own cloud through its state file.
    assert local_cloud.start(second) == second_endpoint

    _dynamodb(first_endpoint, first).create_table(
        TableName="only-in-ada", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    assert "only-in-ada" in _tables(first_endpoint, first)
    assert "only-in-ada" not in _tables(second_endpoint, second)
    # Neither home can reach the other's cloud: its credentials are refused there.
    for endpoint, stranger in ((first_endpoint, second), (second_endpoint, first)):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            _tables(endpoint, stranger)
        assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_default_port_held_by_another_program_moves_the_cloud(tmp_path: Path,
                                                                 free_port: int) -> None:
    cfg = _home(tmp_path, "cy", free_port)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_port))
        squatter.listen(1)
        try:
            endpoint = local_cloud.start(cfg)
            assert not endpoint.endswith(f":{free_port}")
            assert local_cloud.status(cfg)["endpoint"] == endpoint
        finally:
            local_cloud.stop(cfg)


def test_a_port_the_student_named_is_never_moved(tmp_path: Path, free_port: int) -> None:
    cfg = _home(tmp_path, "di", free_port, fixed=True)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_port))
        squatter.listen(1)
        with pytest.raises(LocalCloudError, match=f"Port {free_port} .*WILDRYDES_LOCAL_PORT"):
            local_cloud.start(cfg)
    assert local_cloud.status(cfg) is None


def test_the_producer_child_finds_the_homes_own_port(tmp_path: Path) -> None:
    chosen = _home(tmp_path, "ed", 4599)
    named = _home(tmp_path, "fi", 4700, fixed=True)
    assert "WILDRYDES_LOCAL_PORT" not in background._child_env(chosen)
    assert background._child_env(named)["WILDRYDES_LOCAL_PORT"] == "4700"
