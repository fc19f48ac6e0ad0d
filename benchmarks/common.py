"""What every benchmark module shares: progress output, timing, memory, a private local cloud.

A benchmark module has ``run(endpoint) -> dict`` returning figures. A figure ``x`` with a
``x_target`` beside it is met when ``x <= target``, or ``x >= target`` when ``x`` is named in
the module's ``HIGHER_IS_BETTER`` or ends in one of ``HIGHER_SUFFIXES`` (rates).

Example
-------
>>> median([3.0, 1.0, 2.0])
2.0
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import botocore.config

from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.function_zip import build_zip
from wildrydes_helpers.iam import TRUST_POLICY
from wildrydes_helpers.ports import free_port
from wildrydes_helpers.session import local_credentials

HIGHER_SUFFIXES = ("_per_s", "_rps", "_throughput")


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout stays one JSON object.

    Example
    -------
    >>> progress("starting")  # doctest: +SKIP
    """
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    """The median, rounded to milliseconds' precision for seconds-sized figures.

    Example
    -------
    >>> median([0.5, 0.7, 0.6, 0.9])
    0.65
    """
    return round(float(statistics.median(values)), 4)




def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> float:
    """Poll ``check`` until it is true; return the seconds it took, raise TimeoutError if never.

    Example
    -------
    >>> wait_until(lambda: True, 1.0) < 1.0
    True
    """
    began = time.perf_counter()
    while True:
        with contextlib.suppress(Exception):
            if check():
                return time.perf_counter() - began
        if time.perf_counter() - began > timeout_s:
            raise TimeoutError(f"not done within {timeout_s} s")
        time.sleep(interval_s)


_HOMES: dict[str, Config] = {}  # endpoint -> the private_config home serving it


@contextlib.contextmanager
def private_config(prefix: str = "wildrydes-bench-") -> Iterator[Config]:
    """A Config with its own temporary WILDRYDES_HOME and a free port; the home is removed after.

    Example
    -------
    >>> with private_config() as cfg:           # doctest: +SKIP
    ...     local_cloud.start(cfg)
    """
    home = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(os.environ, WILDRYDES_HOME=str(home), WILDRYDES_LOCAL_PORT=str(free_port()),
               WILDRYDES_BACKEND="local")
    cfg = load_config(env)
    _HOMES[cfg.local_endpoint] = cfg  # local_client signs with this home's credentials
    try:
        yield cfg
    finally:
        _HOMES.pop(cfg.local_endpoint, None)
        shutil.rmtree(home, ignore_errors=True)


def targets_met(figures: dict[str, Any], higher_is_better: set[str]) -> dict[str, bool]:
    """For each figure with a ``_target``: is it met?

    Example
    -------
    >>> targets_met({"a_s": 1.0, "a_s_target": 1.5, "b_per_s": 90, "b_per_s_target": 100}, set())
    {'a_s': True, 'b_per_s': False}
    """
    met = {}
    for key, target in figures.items():
        if not key.endswith("_target"):
            continue
        name = key[: -len("_target")]
        value = figures.get(name)
        if not isinstance(value, int | float) or not isinstance(target, int | float):
            continue
        higher = name in higher_is_better or name.endswith(HIGHER_SUFFIXES)
        met[name] = bool(value >= target) if higher else bool(value <= target)
    return met


def local_client(service: str, endpoint: str, region: str = "us-east-1", *,
                 attempts: int = 1, read_timeout: float = 30.0) -> Any:
    """A boto3 client for the local cloud at ``endpoint``, with its home's credentials.

    The home is the ``private_config`` serving that endpoint, else the environment's.

    Example
    -------
    >>> local_client("dynamodb", "http://127.0.0.1:4599").meta.region_name
    'us-east-1'
    """
    home = local_credentials(_HOMES.get(endpoint.rstrip("/")) or load_config())
    return boto3.Session(
        aws_access_key_id=home.access_key_id, aws_secret_access_key=home.secret_access_key,
        region_name=region,
    ).client(service, endpoint_url=endpoint, config=botocore.config.Config(
        retries={"max_attempts": attempts}, connect_timeout=2, read_timeout=read_timeout))


def zip_source(source: str, name: str = "index.py") -> bytes:
    """A deployment package holding one module.

    Example
    -------
    >>> zip_source("x = 1")[:2]
    b'PK'
    """
    return build_zip(files={name: source})


def lambda_role(endpoint: str, prefix: str) -> str:
    """Create a role Lambda may assume (the lab's trust policy); return its ARN.

    Example
    -------
    >>> lambda_role("http://127.0.0.1:4599", "bench")  # doctest: +SKIP
    'arn:aws:iam::123456789012:role/bench-1a2b3c4d'
    """
    return local_client("iam", endpoint).create_role(
        RoleName=f"{prefix}-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))["Role"]["Arn"]
