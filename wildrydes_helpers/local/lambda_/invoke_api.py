"""Lambda's Invoke API for the local cloud: ``POST /2015-03-31/functions/{name}/invocations``.

moto would need Docker to run a function; this route hands the request to the local cloud's
own runtime (runtime.py), so ``aws lambda invoke`` and boto3's ``invoke`` run the real
handler. Headers and status codes follow AWS: 200 with the function's response (and
``X-Amz-Function-Error`` when it failed), 202 for ``Event``, 204 for ``DryRun``, 429
``TooManyRequestsException`` when the function already runs as many invocations as it may.

Example
-------
>>> handle_invoke(cloud, request, "WildRydesAggregator", "us-east-1")  # doctest: +SKIP
<Response 4 bytes [200 OK]>
"""

from __future__ import annotations

import base64
import json

from werkzeug.wrappers import Request, Response

from ..aws_errors import json_error
from ..context import LocalCloud
from ..moto_backends import FunctionNotFound
from .concurrency import TooManyRequests
from .logs import LOG_TAIL_BYTES
from .runtime import INVOCATION_TYPES, InvalidInvocation, RuntimeStopped

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # 6,291,456 bytes: Lambda's limit for RequestResponse
MAX_ASYNC_PAYLOAD = 256 * 1024  # Lambda's limit for Event
RETRY_AFTER_S = 1


def throttled(exc: TooManyRequests) -> Response:
    """Lambda's throttle: HTTP 429 ``TooManyRequestsException`` with its ``Reason``.

    Example
    -------
    >>> resp = throttled(TooManyRequests("fn", 10, reserved=None))
    >>> resp.status_code, json.loads(resp.get_data())["Reason"]
    (429, 'ConcurrentInvocationLimitExceeded')
    """
    body = json.dumps({"__type": "TooManyRequestsException", "Type": "User",
                       "message": str(exc), "Reason": exc.reason})
    return Response(body, status=429, content_type="application/json",
                    headers={"x-amzn-ErrorType": "TooManyRequestsException",
                             "Retry-After": str(RETRY_AFTER_S)})


def handle_invoke(cloud: LocalCloud, request: Request, function: str, region: str) -> Response:
    """Run one Invoke request against the local cloud's runtime.

    Example
    -------
    >>> resp = handle_invoke(cloud, request, "fn", "us-east-1")  # doctest: +SKIP
    >>> resp.status_code                                          # doctest: +SKIP
    200
    """
    invocation_type = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type not in INVOCATION_TYPES:
        return json_error(
            400, "ValidationException",
            f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
            f"failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(INVOCATION_TYPES)}]",
        )
    payload = request.get_data(cache=False)
    limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
    if len(payload) > limit:
        return json_error(
            413, "RequestEntityTooLargeException",
            f"{len(payload)} byte payload is too large for the {invocation_type} invocation "
            f"type (limit {limit} bytes)",
        )
    if not payload.strip():
        payload = b"{}"  # Lambda hands an empty request to the handler as {}
    else:
        try:
            json.loads(payload)
        except ValueError as exc:
            return json_error(400, "InvalidRequestContentException",
                              f"Could not parse request body into json: {exc}")
    runtime = cloud.runtime
    if runtime is None:
        return json_error(503, "ServiceException", "The local cloud's runtime is not running.")
    try:
        result = runtime.invoke(function, payload, region, invocation_type=invocation_type,
                                qualifier=request.args.get("Qualifier") or None)
    except FunctionNotFound as exc:
        return json_error(404, "ResourceNotFoundException", str(exc))
    except InvalidInvocation as exc:
        return json_error(400, "InvalidParameterValueException", str(exc))
    except RuntimeStopped as exc:
        return json_error(503, "ServiceException", str(exc))
    except TooManyRequests as exc:
        return throttled(exc)
    headers = {"x-amzn-RequestId": result.request_id}
    if invocation_type == "RequestResponse":
        headers["X-Amz-Executed-Version"] = result.executed_version
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            tail = result.log_tail.encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
    return Response(result.payload, status=result.status_code, headers=headers,
                    content_type="application/json")
