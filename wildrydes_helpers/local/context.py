"""The local cloud's shared context: where it listens, its moto door, its services.

One ``LocalCloud`` exists per server process. The runtime (lambda_/), the event source
mappings (esm/) and the HTTP front (router.py) share it: they reach moto only through
``cloud.backends`` and each other only through the typed seams below.

Example
-------
>>> LocalCloud(port=4599).account_id
'123456789012'
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..ports import LOOPBACK
from .credentials import HomeCredentials
from .faults import FaultSettings
from .moto_backends import MotoBackends

LATEST = "$LATEST"
SERVED_SERVICES = ("dynamodb", "kinesis", "lambda", "iam", "logs", "sts", "sqs", "sns")
# Set by the runtime in the user agent of every function worker's AWS SDK, so the router
# can tell the function's own requests (the target of DynamoDB fault injection) apart.
WORKER_USER_AGENT_MARK = "wildrydes-fn"


@dataclass
class InvokeResult:
    """What one invocation returned, in the terms of Lambda's Invoke API.

    Example
    -------
    >>> InvokeResult(200, b"null", None, "", "r1", 1.0).executed_version
    '$LATEST'
    """

    status_code: int  # 200 RequestResponse, 202 Event, 204 DryRun
    payload: bytes  # the function's JSON response, or {"errorMessage","errorType",...}
    function_error: str | None  # None on success, "Unhandled" otherwise
    log_tail: str  # this invocation's log (START..REPORT), last 4 KB
    request_id: str
    duration_ms: float
    executed_version: str = LATEST


class FunctionRunner(Protocol):
    """What the rest of the local cloud asks of the Lambda runtime (lambda_/runtime.py)."""

    def invoke(self, function: str, payload: bytes, region: str, *,
               invocation_type: str = "RequestResponse",
               qualifier: str | None = None) -> InvokeResult: ...

    def forget(self, function_name: str) -> None: ...

    def shutdown(self) -> None: ...


class MappingRegistry(Protocol):
    """What the API asks of the event source mappings (esm/service.py); dicts are API JSON."""

    def create(self, region: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def get(self, uuid: str) -> dict[str, Any]: ...

    def list(self, region: str, function_name: str | None = None,
             stream_arn: str | None = None) -> list[dict[str, Any]]: ...

    def update(self, uuid: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, uuid: str) -> dict[str, Any]: ...

    def start(self) -> None: ...

    def shutdown(self) -> None: ...


@dataclass
class LocalCloud:
    """Context shared by everything inside the local cloud process.

    Example
    -------
    >>> cloud = LocalCloud(port=4599)
    >>> cloud.endpoint
    'http://127.0.0.1:4599'
    """

    port: int
    host: str = LOOPBACK
    backends: MotoBackends = field(default_factory=MotoBackends)
    boot_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float = field(default_factory=time.time)
    faults: FaultSettings = field(default_factory=FaultSettings)
    runtime: FunctionRunner | None = None  # set by process.serve
    esm: MappingRegistry | None = None  # set by process.serve
    # The home's key pair: requests must be signed with it; functions receive it.
    credentials: HomeCredentials | None = None  # set by process.serve

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def account_id(self) -> str:
        return self.backends.account_id

    def status(self) -> dict[str, Any]:
        """What ``/_wildrydes/status`` answers: who this local cloud is.

        Example
        -------
        >>> LocalCloud(port=4599).status()["service"]
        'wildrydes-local-cloud'
        """
        return {
            "service": "wildrydes-local-cloud",
            "endpoint": self.endpoint,
            "port": self.port,
            "boot_id": self.boot_id,
            "started_at": self.started_at,
            "account_id": self.account_id,
        }
