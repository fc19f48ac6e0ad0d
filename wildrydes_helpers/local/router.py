"""The local cloud's HTTP front: routes each request to moto or to the local cloud's own services.

- ``/_wildrydes/...``: the control API (status, fault injection).
- Lambda ``Invoke``: the function runtime (lambda_/invoke_api.py), not moto (moto would need
  Docker).
- Lambda event source mappings: esm/api.py, answered by the local cloud's own service.
- Every other request of a served service: moto, one request at a time (moto_backends.py).
- Any other service: a clear error instead of moto's guesswork.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from .aws_errors import json_error, unknown_service_error
from .context import SERVED_SERVICES, WORKER_USER_AGENT_MARK, LocalCloud
from .esm.api import handle_esm_request
from .faults import FaultSettings
from .lambda_.invoke_api import handle_invoke

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_ESM_PATH = re.compile(r"^/2015-03-31/event-source-mappings/?([^/]*)/?$")
_FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/?$")
_DDB_WRITES = ("PutItem", "UpdateItem", "BatchWriteItem", "DeleteItem")

StartResponse = Callable[..., Any]


def service_of(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    """(service, region) from the request's SigV4 credential scope, or (None, None).

    Example
    -------
    >>> service_of({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20240501/"
    ...             "us-east-1/kinesis/aws4_request, SignedHeaders=host"})
    ('kinesis', 'us-east-1')
    """
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None, None
    return match.group(2).lower(), match.group(1)


class LocalCloudApp:
    """WSGI application of the local cloud (see the module docstring)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_wildrydes/"):
            return self._control(Request(environ))(environ, start_response)
        service, region = service_of(environ)
        if service is not None and service not in SERVED_SERVICES:
            return unknown_service_error(environ, service, SERVED_SERVICES)(
                environ, start_response)
        if service == "lambda":
            routed = self._lambda(Request(environ), region or "us-east-1")
            if routed is not None:
                return routed(environ, start_response)
        if service == "dynamodb":
            fault = self._dynamodb_fault(environ)
            if fault is not None:
                return fault(environ, start_response)
        return self._moto(environ, start_response, service)

    def _moto(self, environ: dict[str, Any], start_response: StartResponse,
              service: str | None = None) -> Iterable[bytes]:
        status, headers, body = self.cloud.backends.handle_request(environ, service)
        start_response(status, headers)
        if environ.get("PATH_INFO", "").startswith("/2015-03-31/functions/") and \
                environ.get("REQUEST_METHOD") == "DELETE" and status.startswith("2"):
            self._function_deleted(environ)
        return [body]

    def _function_deleted(self, environ: dict[str, Any]) -> None:
        match = _FUNCTION_PATH.match(environ.get("PATH_INFO", ""))
        if match and self.cloud.runtime is not None:
            self.cloud.runtime.forget(match.group(1))

    def _lambda(self, request: Request, region: str) -> Response | None:
        invoke = _INVOKE_PATH.match(request.path)
        if invoke and request.method == "POST":
            return handle_invoke(self.cloud, request, invoke.group(1), region)
        esm = _ESM_PATH.match(request.path)
        if esm:
            return handle_esm_request(self.cloud, request, esm.group(1) or None, region)
        return None

    def _dynamodb_fault(self, environ: dict[str, Any]) -> Response | None:
        faults = self.cloud.faults
        if not faults.active or WORKER_USER_AGENT_MARK not in environ.get("HTTP_USER_AGENT", ""):
            return None
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.endswith(_DDB_WRITES):
            return None
        if faults.ddb_write_delay_s > 0:
            time.sleep(faults.ddb_write_delay_s)
        if faults.roll(faults.ddb_write_error_rate):
            return json_error(
                500, "InternalServerError",
                "Injected fault: the local cloud failed this DynamoDB write on purpose.",
            )
        return None

    def _control(self, request: Request) -> Response:
        name = request.path[len("/_wildrydes/"):].strip("/")
        if name == "status" and request.method == "GET":
            return Response(json.dumps(self.cloud.status()), content_type="application/json")
        if name == "faults":
            if request.method in ("PUT", "POST"):
                try:
                    data = json.loads(request.get_data() or b"{}")
                    if not isinstance(data, dict):
                        raise ValueError("the body must be a JSON object")
                    self.cloud.faults = FaultSettings.from_dict(data)
                except (ValueError, TypeError) as exc:
                    return json_error(400, "InvalidParameterValueException", str(exc))
            return Response(json.dumps(self.cloud.faults.to_dict()),
                            content_type="application/json")
        return json_error(404, "NotFound", f"The local cloud has no control endpoint '{name}'.")
