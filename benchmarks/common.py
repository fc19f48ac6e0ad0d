"""What every benchmark module shares: progress output, timing, memory, a private local cloud.

A benchmark module has ``run(endpoint) -> dict`` returning figures and ``FIGURES``, the names
of those that have a target in ``targets.TARGETS``.

Example
-------
>>> median([3.0, 1.0, 2.0])
2.0
"""

from __future__ import annotations

import contextlib
import json
import math
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
from wildrydes_helpers.session import local_credentials as home_credentials


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


def local_credentials(cfg: Config | None = None) -> tuple[str, str]:
    """(access key id, secret key) that the local cloud of ``cfg`` (default: the benchmark's
    own, from the environment) accepts: its home's own pair.

    Example
    -------
    >>> len(local_credentials()) == 2
    True
    """
    creds = home_credentials(cfg or load_config())
    return creds.access_key_id, creds.secret_access_key


def client_for(service: str, endpoint: str, region: str = "us-east-1", *,
               credentials: tuple[str, str], attempts: int = 1,
               read_timeout: float = 30.0) -> Any:
    """A boto3 client for ``endpoint`` (a local cloud, or moto's own server) with credentials.

    Every client of the benchmarks is made here, with the same settings, so that two servers
    compared with each other are called the same way.

    Example
    -------
    >>> client_for("sqs", "http://127.0.0.1:4599", credentials=("a", "b")).meta.region_name
    'us-east-1'
    """
    access_key, secret_key = credentials
    return boto3.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region,
    ).client(service, endpoint_url=endpoint, config=botocore.config.Config(
        retries={"max_attempts": attempts}, connect_timeout=2, read_timeout=read_timeout))


def local_client(service: str, endpoint: str, region: str = "us-east-1", *,
                 attempts: int = 1, read_timeout: float = 30.0,
                 cfg: Config | None = None) -> Any:
    """A boto3 client for a local cloud (the benchmark's own unless ``cfg`` names another).

    Example
    -------
    >>> local_client("dynamodb", "http://127.0.0.1:4599").meta.region_name
    'us-east-1'
    """
    home = cfg or _HOMES.get(endpoint.rstrip("/"))
    return client_for(service, endpoint, region, credentials=local_credentials(home),
                      attempts=attempts, read_timeout=read_timeout)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method.

    Example
    -------
    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.99), percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    (4.0, 2.0)
    """
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


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
