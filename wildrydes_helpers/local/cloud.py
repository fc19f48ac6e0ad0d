"""The local cloud's shared context: where it listens, its moto backends, its services.

One ``LocalCloud`` exists per server process. The runtime (runtime.py), the event source
mappings (esm.py) and the HTTP front (app.py) all reach moto's backends through it, under
``MOTO_LOCK``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultSettings
from .patches import MOTO_LOCK

ACCOUNT_ID = "123456789012"  # moto's default account: the local cloud's own, never a real one
SERVED_SERVICES = ("dynamodb", "kinesis", "lambda", "iam", "logs", "sts", "sqs", "sns")


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
    host: str = "127.0.0.1"
    account_id: str = ACCOUNT_ID
    boot_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float = field(default_factory=time.time)
    faults: FaultSettings = field(default_factory=FaultSettings)
    runtime: Any = None  # runtime.FunctionRuntime, set by the server
    esm: Any = None  # esm.EventSourceMappingService, set by the server

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def lock(self):  # noqa: ANN201 - an RLock
        return MOTO_LOCK

    def lambda_backend(self, region: str) -> Any:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[self.account_id][region]

    def kinesis_backend(self, region: str) -> Any:
        from moto.kinesis.models import kinesis_backends

        return kinesis_backends[self.account_id][region]

    def logs_backend(self, region: str) -> Any:
        from moto.logs.models import logs_backends

        return logs_backends[self.account_id][region]

    def sqs_backend(self, region: str) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account_id][region]

    def sns_backend(self, region: str) -> Any:
        from moto.sns.models import sns_backends

        return sns_backends[self.account_id][region]

    def status(self) -> dict[str, Any]:
        return {
            "service": "wildrydes-local-cloud",
            "endpoint": self.endpoint,
            "port": self.port,
            "boot_id": self.boot_id,
            "started_at": self.started_at,
            "account_id": self.account_id,
        }
