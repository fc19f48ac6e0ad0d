"""One client factory for both backends, and a record of the boto3 calls the lab made.

In ``local`` mode it starts the local cloud when none runs and talks to it with the home's
own credentials (``local_credentials``), never reading or changing the user's AWS settings.
In ``aws`` mode it uses the standard credential chain and checks it once with STS.

Example
-------
>>> from wildrydes_helpers.session import get_session
>>> lab = get_session()                      # doctest: +SKIP
>>> lab.client("dynamodb").list_tables()     # doctest: +SKIP
{'TableNames': [], ...}
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.session

from .config import LOCAL_ACCOUNT_ID, Config, load_config
from .errors import CredentialsError
from .local import process as local_cloud
from .local.credentials import HomeCredentials, ensure_credentials, read_credentials

_HIDDEN_PARAMS = {"ZipFile", "Data", "Payload", "Records"}


def mask_account(account_id: str) -> str:
    """Show only the last four digits of an account id.

    Example
    -------
    >>> mask_account("123456789012")
    '********9012'
    """
    return "*" * max(len(account_id) - 4, 0) + account_id[-4:]


_ACCOUNT_ID = re.compile(r"(?<![0-9-])[0-9]{12}(?![0-9])")  # not a shard id's digits


def mask_accounts(text: str) -> str:
    """Replace every 12-digit number (an AWS account id) by its masked form.

    Example
    -------
    >>> mask_accounts("arn:aws:iam::123456789012:role/r")
    'arn:aws:iam::********9012:role/r'
    """
    return _ACCOUNT_ID.sub(lambda m: mask_account(m.group(0)), text)


@dataclass
class CallRecord:
    service: str
    operation: str
    params: dict[str, Any]

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.service}.{self.operation}({shown})"


def _summarise(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in _HIDDEN_PARAMS and isinstance(value, bytes | bytearray | list):
            out[key] = f"<{len(value)} {'bytes' if not isinstance(value, list) else 'items'}>"
        elif isinstance(value, dict):  # e.g. Code={"ZipFile": b"..."}
            out[key] = _summarise(value)
        else:
            out[key] = value
    return out


@dataclass
class LabSession:
    """A boto3 session bound to one backend, with a client cache and a call recorder."""

    config: Config
    boto: boto3.Session
    endpoint: str | None = None
    account_id: str = ""
    boot_id: str | None = None
    calls: list[CallRecord] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_local(self) -> bool:
        return self.config.is_local

    def client(self, service: str) -> Any:
        """A cached boto3 client for ``service`` on this session's backend."""
        with self._lock:
            if service not in self._clients:
                cfg = botocore.config.Config(
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5, read_timeout=70,
                )
                client = self.boto.client(
                    service, region_name=self.config.region,
                    endpoint_url=self.endpoint, config=cfg,
                )
                # The caller's own parameters, before serialisation (any protocol).
                client.meta.events.register("before-parameter-build.*.*", self._record)
                self._clients[service] = client
            return self._clients[service]

    def _record(self, model: Any = None, params: Any = None, **_: Any) -> None:
        service = model.service_model.service_name if model is not None else "?"
        operation = model.name if model is not None else "?"
        shown = params if isinstance(params, dict) else {}
        self.calls.append(CallRecord(service, operation, _summarise(dict(shown))))

    def mark(self) -> int:
        """A position in the call record; ``calls_since(mark)`` lists what came after."""
        return len(self.calls)

    def calls_since(self, mark: int) -> list[CallRecord]:
        return self.calls[mark:]

    def describe(self) -> str:
        """One line: the backend, region and (masked) account in use."""
        if self.is_local:
            return (f"backend: local (the embedded local cloud, no AWS account), "
                    f"region {self.config.region}")
        return (f"backend: aws, account {mask_account(self.account_id)}, "
                f"region {self.config.region}")


_default: dict[tuple[Any, ...], LabSession] = {}
_default_lock = threading.Lock()


def local_credentials(cfg: Config) -> HomeCredentials:
    """The key pair of ``cfg``'s home, which its local cloud accepts. Starts nothing.

    Made (random, in a ``0600`` file of the ``0700`` home) when the home has none yet; the
    local cloud's first start does the same, so both always agree.

    Example
    -------
    >>> import tempfile
    >>> cfg = load_config({"WILDRYDES_HOME": tempfile.mkdtemp()})
    >>> local_credentials(cfg) == local_credentials(cfg)
    True
    """
    return read_credentials(cfg.home) or ensure_credentials(cfg.home)


def local_boto3_session(cfg: Config) -> boto3.Session:
    """A boto3 session with the home's credentials, blind to the user's AWS settings.

    Example
    -------
    >>> import tempfile
    >>> cfg = load_config({"WILDRYDES_HOME": tempfile.mkdtemp()})
    >>> local_boto3_session(cfg).get_credentials().access_key.startswith("LOCAL")
    True
    """
    # Ignore the user's AWS profile and files: a profile named in AWS_PROFILE that does not
    # exist would otherwise fail before the home's credentials are ever used.
    isolated = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    isolated.set_config_variable("config_file", os.devnull)
    isolated.set_config_variable("credentials_file", os.devnull)
    home = local_credentials(cfg)
    return boto3.Session(
        aws_access_key_id=home.access_key_id, aws_secret_access_key=home.secret_access_key,
        region_name=cfg.region, botocore_session=isolated,
    )


def _local_session(cfg: Config) -> LabSession:
    endpoint = local_cloud.start(cfg)
    running = local_cloud.status(cfg)
    boot = local_boto3_session(cfg)
    return LabSession(cfg, boot, endpoint=endpoint, account_id=LOCAL_ACCOUNT_ID,
                      boot_id=(running or {}).get("boot_id"))


def _aws_session(cfg: Config) -> LabSession:
    boot = boto3.Session(region_name=cfg.region)
    how = ("Set up credentials first: run `aws configure` (or `aws sso login --profile NAME` "
           "and `export AWS_PROFILE=NAME`), and choose a region with "
           "`export AWS_REGION=us-east-1`. To work without an account, unset "
           "WILDRYDES_BACKEND to use the local cloud.")
    if boot.get_credentials() is None:
        raise CredentialsError(f"aws mode needs AWS credentials, and none were found. {how}")
    lab = LabSession(cfg, boot)
    try:
        identity = lab.client("sts").get_caller_identity()
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        reason = exc.response["Error"]["Code"] if isinstance(
            exc, botocore.exceptions.ClientError) else type(exc).__name__
        raise CredentialsError(
            f"aws mode could not confirm your AWS credentials ({reason}). {how}"
        ) from None
    lab.account_id = identity["Account"]
    lab.calls.clear()
    return lab


def get_session(session: LabSession | None = None, config: Config | None = None) -> LabSession:
    """The session a helper should use: ``session`` if given, else the shared default one.

    Example
    -------
    >>> get_session().describe()  # doctest: +SKIP
    'backend: local (the embedded local cloud, no AWS account), region us-east-1'
    """
    if session is not None:
        return session
    cfg = config or load_config()
    key = (cfg.backend, cfg.region, cfg.local_port, str(cfg.home), cfg.prefix,
           cfg.window_seconds)
    with _default_lock:
        lab = _default.get(key)
        if lab is not None and lab.is_local:
            running = local_cloud.status(cfg)
            if running is None:
                lab = None  # the local cloud stopped: start it again below
        if lab is None:
            lab = _local_session(cfg) if cfg.is_local else _aws_session(cfg)
            _default[key] = lab
        return lab


def reset_sessions() -> None:
    """Forget cached sessions (tests, or after changing the environment in a notebook)."""
    with _default_lock:
        _default.clear()
