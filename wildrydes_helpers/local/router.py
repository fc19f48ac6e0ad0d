"""The local cloud's HTTP front: checks every request, then routes it to moto or to the local
cloud's own services.

Every request passes, in this order (each refusal is in AWS's error shape, see
aws_errors.py):

1. ``browser_guard``: its Host is the local cloud's own address, it comes from no web page,
   it is no CORS preflight (else 403).
2. ``/moto-api/*`` (moto's reset and recorder routes) does not exist here (404).
3. ``limits``: a body over the service's limit is refused from its Content-Length (413),
   before it is read.
4. ``auth``: the request is signed with the home's credentials (else 403). Only
   ``GET /_wildrydes/status`` answers unsigned requests.
5. The service is one the local cloud serves, in a real region; ``request_checks``: the
   operation exists and the body is well-formed (else 400); the size rules of Kinesis
   records and of function code (``limits``).

Then:

- ``/_wildrydes/...``: the control API (status, fault injection), JSON only.
- Lambda ``Invoke``: the function runtime (lambda_/invoke_api.py), not moto (moto would need
  Docker).
- Lambda event source mappings: esm/api.py, answered by the local cloud's own service.
- Every other request: moto, one request at a time (moto_backends.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from . import browser_guard, limits
from .auth import Signature, read_signature, verify_request
from .aws_errors import Refusal, json_error, unknown_service_error
from .context import SERVED_SERVICES, WORKER_USER_AGENT_MARK, LocalCloud
from .esm.api import handle_esm_request
from .faults import FaultSettings
from .lambda_.invoke_api import handle_invoke
from .request_checks import check_request

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_ESM_PATH = re.compile(r"^/2015-03-31/event-source-mappings/?([^/]*)/?$")
_FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/?$")
_DDB_WRITES = ("PutItem", "UpdateItem", "BatchWriteItem", "DeleteItem")
CONTROL_PREFIX = "/_wildrydes/"
STATUS_PATH = CONTROL_PREFIX + "status"

StartResponse = Callable[..., Any]


def _stated_service(environ: dict[str, Any]) -> str | None:
    """The service a request says it is for (unverified: it only picks a size limit)."""
    try:
        stated = read_signature(environ)
    except Refusal:
        return None
    return stated.service if stated is not None else None


class LocalCloudApp:
    """WSGI application of the local cloud (see the module docstring)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            answer = self._answer(environ)
        except Refusal as refusal:
            answer = refusal.response(environ)
        if isinstance(answer, Response):
            return answer(environ, start_response)
        return self._moto(environ, start_response, answer)

    def _answer(self, environ: dict[str, Any]) -> Response | str:
        """A response, or the name of the service whose moto backend answers the request."""
        path = environ.get("PATH_INFO", "")
        refusal = browser_guard.refusal_for(environ, self.cloud.port)
        if refusal is not None:
            raise refusal
        if path == "/moto-api" or path.startswith("/moto-api/"):
            return json_error(404, "NotFound", "The local cloud has no /moto-api routes.")
        stated = _stated_service(environ)
        length = limits.check_body_size(environ, stated)
        if path == STATUS_PATH and environ.get("REQUEST_METHOD") == "GET" and stated is None:
            return self._status()
        body = limits.read_body(environ, stated, length)
        signature = self._verify(environ, body)
        if path.startswith(CONTROL_PREFIX):
            return self._control(Request(environ))
        return self._aws(environ, body, signature)

    def _verify(self, environ: dict[str, Any], body: bytes) -> Signature:
        if self.cloud.credentials is None:
            raise Refusal(503, "ServiceUnavailableException", "ServiceUnavailable",
                          "The local cloud has no credentials yet; restart it with "
                          "`wildrydes local stop` and `wildrydes local start`.")
        return verify_request(environ, body, self.cloud.credentials)

    def _aws(self, environ: dict[str, Any], body: bytes, signature: Signature) -> Response | str:
        service, region = signature.service, signature.region
        if signature.presigned:
            # moto finds a request's service and region in its Authorization header.
            environ["HTTP_AUTHORIZATION"] = (
                f"AWS4-HMAC-SHA256 Credential={signature.access_key_id}/{signature.scope}, "
                f"SignedHeaders={';'.join(signature.signed_headers)}, "
                f"Signature={signature.signature}")
        if service not in SERVED_SERVICES:
            return unknown_service_error(environ, service, SERVED_SERVICES)
        if not self.cloud.backends.region_served(service, region):
            raise Refusal(403, "InvalidSignatureException", "SignatureDoesNotMatch",
                          f"Credential should be scoped to a valid region, not {region!r}. "
                          "Use an AWS region code such as us-east-1 (AWS_REGION).", service)
        operation, params = check_request(service, environ, body)
        if service == "kinesis":
            limits.check_kinesis_records(operation, params)
        if service == "lambda":
            limits.check_function_code(environ.get("REQUEST_METHOD", ""),
                                       environ.get("PATH_INFO", ""), body)
            routed = self._lambda(Request(environ), region)
            if routed is not None:
                return routed
        if service == "dynamodb":
            fault = self._dynamodb_fault(environ)
            if fault is not None:
                return fault
        return service

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

    def _status(self) -> Response:
        return Response(json.dumps(self.cloud.status()), content_type="application/json")

    def _control(self, request: Request) -> Response:
        """The control API; the request is already signed with the home's credentials."""
        name = request.path[len(CONTROL_PREFIX):].strip("/")
        if name == "status" and request.method == "GET":
            return self._status()
        if request.method != "GET" and request.mimetype != "application/json":
            # A web page can send text/plain without asking the browser first; JSON it cannot.
            return json_error(415, "UnsupportedMediaTypeException",
                              "The local cloud's control routes take Content-Type: "
                              "application/json only.")
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
