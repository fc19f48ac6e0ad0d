"""The Lambda API's event source mapping routes, answered by the local cloud's own service.

``POST/GET /2015-03-31/event-source-mappings/`` (create, list) and
``GET/PUT/DELETE /2015-03-31/event-source-mappings/{uuid}`` (get, update, delete). The
mappings themselves live in ``cloud.esm`` (service.py); moto never sees them.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from ..aws_errors import AwsApiError
from ..context import LocalCloud, MappingRegistry

DEFAULT_MAX_ITEMS = 100


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data() or b"{}"
    try:
        data = json.loads(raw)
    except ValueError:
        raise AwsApiError(400, "InvalidParameterValueException",
                          "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise AwsApiError(400, "InvalidParameterValueException",
                          "The request body must be a JSON object.")
    return data


def _list(esm: MappingRegistry, request: Request, region: str) -> Response:
    items = esm.list(region, request.args.get("FunctionName") or None,
                     request.args.get("EventSourceArn") or None)
    try:
        start = int(request.args.get("Marker") or 0)
        size = int(request.args.get("MaxItems") or DEFAULT_MAX_ITEMS)
    except ValueError:
        raise AwsApiError(400, "InvalidParameterValueException",
                          "Marker and MaxItems must be whole numbers.") from None
    size = max(1, min(size, 10_000))
    page: dict[str, Any] = {"EventSourceMappings": items[start:start + size]}
    if start + size < len(items):
        page["NextMarker"] = str(start + size)
    return _json(200, page)


def handle_esm_request(cloud: LocalCloud, request: Request, uuid: str | None,
                       region: str) -> Response:
    """Answer one event source mapping request as the Lambda API would.

    Parameters
    ----------
    cloud : the LocalCloud; ``cloud.esm`` is its EventSourceMappingService.
    request : the HTTP request.
    uuid : the mapping's UUID from the path, or None for the collection.
    region : the region the request was signed for.

    Example
    -------
    >>> handle_esm_request(cloud, request, None, "us-east-1").status_code  # doctest: +SKIP
    202
    """
    esm = cloud.esm
    try:
        if esm is None:
            raise AwsApiError(503, "ServiceException",
                              "The local cloud's event source mappings are not running.")
        method = request.method
        if uuid is None:
            if method == "POST":
                return _json(202, esm.create(region, _body(request)))
            if method == "GET":
                return _list(esm, request, region)
        elif method == "GET":
            return _json(200, esm.get(uuid))
        elif method == "PUT":
            return _json(202, esm.update(uuid, _body(request)))
        elif method == "DELETE":
            return _json(202, esm.delete(uuid))
        raise AwsApiError(405, "InvalidParameterValueException",
                              f"{method} is not an event source mapping operation.")
    except AwsApiError as exc:
        return exc.response()
