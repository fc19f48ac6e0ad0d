"""Configuration of the lab, read from the environment and validated.

Every resource name of the lab lives here once; helpers ask this module for names
instead of spelling them again.

Example
-------
>>> from wildrydes_helpers.config import load_config
>>> cfg = load_config({"WILDRYDES_PREFIX": "s07"})
>>> cfg.table_name
's07-UnicornAggregation'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

BACKENDS = ("local", "aws")
DEFAULT_BACKEND = "local"
DEFAULT_WINDOW_SECONDS = 60
MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS = 1, 900
# Not LocalStack's 4566, so both can run side by side on a teacher's laptop.
DEFAULT_LOCAL_PORT = 4599
DEFAULT_REGION = "us-east-1"

# The local cloud's own account: moto's documented dummy value, never a real account's.
# Its credentials are each home's own (local/credentials.py, session.local_credentials).
LOCAL_ACCOUNT_ID = "123456789012"

# The lab's resource names, as the original workshop text gives them.
STREAM_NAME = "wildrydes"
TABLE_NAME = "UnicornAggregation"
TABLE_PARTITION_KEY = "name"
TABLE_SORT_KEY = "windowStart"
ROLE_NAME = "unicorn-aggregation-role"
MANAGED_POLICY_ARN_SUFFIX = "policy/service-role/AWSLambdaKinesisExecutionRole"
WRITE_POLICY_NAME = "unicorn-aggregation-ddb-write-policy"
FUNCTION_NAME = "WildRydesAggregator"
FUNCTION_TABLE_ENV = "TABLE_NAME"
FAILURE_QUEUE_NAME = "wildrydes-aggregator-failures"

# The trigger settings of the lab (step 3).
TRIGGER_BATCH_SIZE = 100
TRIGGER_STARTING_POSITION = "LATEST"
TRIGGER_RETRY_ATTEMPTS = 2
TRIGGER_BISECT_ON_ERROR = True

# A prefix must be legal in a Kinesis stream, DynamoDB table, IAM role and policy, Lambda
# function, SQS queue and log group name: the intersection is letters, digits, '-' and '_'.
# The tightest limit is 64 characters (IAM role and Lambda function names); the longest
# name the prefix goes on is the role (24) and the failure queue (29, limit 80), so 32 + 1
# separator leaves room everywhere.
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
PREFIX_MAX_LENGTH = 32


@dataclass(frozen=True)
class Config:
    """The lab's settings and the resource names derived from them.

    Example
    -------
    >>> Config().function_name
    'WildRydesAggregator'
    """

    backend: str = DEFAULT_BACKEND
    window_seconds: int = DEFAULT_WINDOW_SECONDS
    prefix: str = ""
    local_port: int = DEFAULT_LOCAL_PORT
    # True when WILDRYDES_LOCAL_PORT names the port. Otherwise the port is only a first choice:
    # if another user's local cloud or another program holds it, this home takes a free one.
    local_port_fixed: bool = False
    region: str = DEFAULT_REGION
    home: Path = Path.home() / ".wildrydes"

    def name(self, base: str) -> str:
        """Put the class prefix (if any) on a resource name: ``s07`` + ``wildrydes``."""
        return f"{self.prefix}-{base}" if self.prefix else base

    @property
    def stream_name(self) -> str:
        return self.name(STREAM_NAME)

    @property
    def table_name(self) -> str:
        return self.name(TABLE_NAME)

    @property
    def role_name(self) -> str:
        return self.name(ROLE_NAME)

    @property
    def write_policy_name(self) -> str:
        return self.name(WRITE_POLICY_NAME)

    @property
    def function_name(self) -> str:
        return self.name(FUNCTION_NAME)

    @property
    def failure_queue_name(self) -> str:
        return self.name(FAILURE_QUEUE_NAME)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def is_local(self) -> bool:
        return self.backend == "local"

    @property
    def local_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"


def _int_setting(env: Mapping[str, str], var: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(var, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{var}={raw!r} is not a whole number. Allowed: {lo}..{hi} (default {default}). "
            f"Fix it with, e.g., `export {var}={default}`."
        ) from None
    if not lo <= value <= hi:
        raise ConfigError(
            f"{var}={value} is out of range. Allowed: {lo}..{hi} (default {default}). "
            f"Fix it with, e.g., `export {var}={default}`."
        )
    return value


def validate_prefix(prefix: str, var: str = "WILDRYDES_PREFIX") -> str:
    """Return ``prefix`` if every AWS service of the lab accepts it in a name, else raise.

    Example
    -------
    >>> validate_prefix("team-3")
    'team-3'
    """
    if prefix == "":
        return prefix
    if len(prefix) > PREFIX_MAX_LENGTH or not PREFIX_PATTERN.match(prefix):
        raise ConfigError(
            f"{var}={prefix!r} is not allowed. Use 1 to {PREFIX_MAX_LENGTH} characters: "
            "letters, digits, '-' and '_', starting with a letter or digit "
            f"(e.g. `export {var}=student07`), or leave it empty."
        )
    return prefix


def validate_backend(backend: str, var: str = "WILDRYDES_BACKEND") -> str:
    """Return the backend name in lower case, or raise naming what is allowed.

    Example
    -------
    >>> validate_backend("AWS")
    'aws'
    """
    value = backend.strip().lower()
    if value not in BACKENDS:
        raise ConfigError(
            f"{var}={backend!r} is not a backend. Allowed: 'local' (the default, no account "
            "needed) or 'aws' (your real AWS account)."
        )
    return value


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the lab's settings from the environment.

    Example
    -------
    >>> load_config({"WILDRYDES_WINDOW_SECONDS": "5"}).window_seconds
    5
    """
    env = os.environ if env is None else env
    backend = validate_backend(env.get("WILDRYDES_BACKEND", "") or DEFAULT_BACKEND)
    window = _int_setting(
        env, "WILDRYDES_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS,
        MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS,
    )
    prefix = validate_prefix(env.get("WILDRYDES_PREFIX", "").strip())
    port = _int_setting(env, "WILDRYDES_LOCAL_PORT", DEFAULT_LOCAL_PORT, 1024, 65535)
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION).strip()
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ConfigError(
            f"AWS_REGION={region!r} does not look like a region. Use a code such as "
            "'us-east-1' or 'eu-west-1'."
        )
    home_raw = env.get("WILDRYDES_HOME", "").strip()
    home = Path(home_raw).expanduser() if home_raw else Path.home() / ".wildrydes"
    return Config(
        backend=backend, window_seconds=window, prefix=prefix,
        local_port=port, local_port_fixed=bool(env.get("WILDRYDES_LOCAL_PORT", "").strip()),
        region=region, home=home,
    )
