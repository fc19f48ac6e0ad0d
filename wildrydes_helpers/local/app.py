"""The local cloud's HTTP front: routes each request to moto or to the local cloud's own services.

- ``/_wildrydes/...``: the control API (status, fault injection).
- Lambda ``Invoke``: the function runtime (runtime.py), not moto (moto would need Docker).
- Lambda event source mappings: esm_api.py, which runs real pollers (esm.py).
- Every other request of a served service: moto, one request at a time (MOTO_LOCK).
- Any other service: a clear error instead of moto's guesswork.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from .cloud import SERVED_SERVICES, LocalCloud
from .faults import FaultSettings
from .patches import MOTO_LOCK

WORKER_USER_AGENT_MARK = "wildrydes-fn"  # set by the runtime in every function worker
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_ESM_PATH = re.compile(r"^/2015-03-31/event-source-mappings/?([^/]*)/?$")
_FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/?$")
_DDB_WRITES = ("PutItem", "UpdateItem", "BatchWriteItem", "DeleteItem")

StartResponse = Callable[..., Any]


def json_error(status: int, error_type: str, message: str) -> Response:
    """An AWS-style JSON error that boto3 turns into a ClientError with this code."""
    body = json.dumps({"__type": error_type, "Type": "User", "message": message,
                       "Message": message})
    return Response(body, status=status, content_type="application/json",
                    headers={"x-amzn-ErrorType": error_type})


def unknown_service_error(environ: dict[str, Any], service: str) -> Response:
    """An error naming the served services, in the format the caller's SDK can parse."""
    message = (f"The local cloud serves {', '.join(SERVED_SERVICES)}; '{service}' is not one "
               "of them. The lab needs no other service; for anything else use "
               "WILDRYDES_BACKEND=aws.")
    code = "UnknownServiceException"
    # Query-protocol services (ec2, iam-like) and S3 cannot parse a JSON error body.
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}"
                "</Message></Error></Errors><RequestID>0</RequestID></Response>")
        return Response(body, status=400, content_type="text/xml")
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        return Response(body, status=400, content_type="application/xml")
    return json_error(400, code, message)


def service_of(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    """(service, region) from the request's SigV4 credential scope, or (None, None)."""
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None, None
    return match.group(2).lower(), match.group(1)


class LocalCloudApp:
    """WSGI application of the local cloud (see the module docstring)."""

    def __init__(self, cloud: LocalCloud, moto_app: Callable[..., Iterable[bytes]]):
        self.cloud = cloud
        self.moto_app = moto_app
        # moto's dispatcher works out the backend of every request from its Host header,
        # listing moto's modules each time (about a tenth of the server's time under load).
        # A signed request names its service, which always maps to the same backend app.
        self._apps: dict[str, Callable[..., Iterable[bytes]]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_wildrydes/"):
            return self._control(Request(environ))(environ, start_response)
        service, region = service_of(environ)
        if service is not None and service not in SERVED_SERVICES:
            return unknown_service_error(environ, service)(environ, start_response)
        if service == "lambda":
            routed = self._lambda(Request(environ), region or "us-east-1")
            if routed is not None:
                return routed(environ, start_response)
        if service == "dynamodb":
            fault = self._dynamodb_fault(environ)
            if fault is not None:
                return fault(environ, start_response)
        return self._moto(environ, start_response, service)

    def _backend_app(self, environ: dict[str, Any],
                     service: str | None) -> Callable[..., Iterable[bytes]]:
        app = self._apps.get(service) if service else None
        if app is not None:
            return app
        get_application = getattr(self.moto_app, "get_application", None)
        if service is None or get_application is None:
            return self.moto_app
        app = get_application(environ)
        self._apps[service] = app
        return app

    def _moto(self, environ: dict[str, Any], start_response: StartResponse,
              service: str | None = None) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def _capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        with MOTO_LOCK:
            result = self._backend_app(environ, service)(environ, _capture)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        start_response(captured["status"], captured["headers"])
        if environ.get("PATH_INFO", "").startswith("/2015-03-31/functions/") and \
                environ.get("REQUEST_METHOD") == "DELETE" and captured["status"].startswith("2"):
            self._function_deleted(environ)
        return [body]

    def _function_deleted(self, environ: dict[str, Any]) -> None:
        match = _FUNCTION_PATH.match(environ.get("PATH_INFO", ""))
        if match and self.cloud.runtime is not None:
            self.cloud.runtime.forget(match.group(1))

    def _lambda(self, request: Request, region: str) -> Response | None:
        invoke = _INVOKE_PATH.match(request.path)
        if invoke and request.method == "POST":
            from .invoke_api import handle_invoke

            return handle_invoke(self.cloud, request, invoke.group(1), region)
        esm = _ESM_PATH.match(request.path)
        if esm:
            from .esm_api import handle_esm_request

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
