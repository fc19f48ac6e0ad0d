"""Malformed AWS requests get AWS's 4xx answer here, before moto could fail on them with a 500.

Checked against botocore's own model of each service: the ``X-Amz-Target`` of JSON services
(DynamoDB, Kinesis, Logs, SQS), the ``Action`` of query services (IAM, STS, SNS), and the
body: a JSON object where the protocol wants one. The parsed JSON parameters are returned so
later checks (Kinesis record sizes) need not parse the body again.

Example
-------
>>> check_request("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables",
...                            "REQUEST_METHOD": "POST"}, b"{}")
('ListTables', {})
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import botocore.session

from .aws_errors import Refusal

_INVOKE_SUFFIX = "/invocations"


@functools.lru_cache(maxsize=16)
def _model(service: str) -> Any:
    # botocore's own API description of the service: the operations it has.
    return botocore.session.get_session().get_service_model(service)


def _unknown_operation(service: str, what: str) -> Refusal:
    return Refusal(400, "UnknownOperationException", "InvalidAction",
                   f"{what} is not an operation of {service}.", service)


def _json_object(service: str, body: bytes, code: str, message: str) -> dict[str, Any]:
    try:
        data = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refusal(400, code, "MalformedInput", f"{message}: {exc}", service) from None
    if not isinstance(data, dict):
        raise Refusal(400, code, "MalformedInput", f"{message}: the body must be a JSON object.",
                      service)
    return data


def _json_protocol(service: str, model: Any, environ: Mapping[str, Any],
                   body: bytes) -> tuple[str, dict[str, Any]]:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    prefix, _, operation = target.partition(".")
    if prefix != model.metadata.get("targetPrefix") or operation not in model.operation_names:
        raise _unknown_operation(service, f"X-Amz-Target {target!r}" if target
                                 else "A request without X-Amz-Target")
    params = _json_object(service, body, "SerializationException",
                          "The request body is not valid JSON")
    return operation, params


def _query_protocol(service: str, model: Any, environ: Mapping[str, Any],
                    body: bytes) -> tuple[str, dict[str, Any]]:
    params = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    if "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = params.get("Action", "")
    if not action:
        raise Refusal(400, "MissingAction", "MissingAction",
                      "The request must contain the parameter Action.", service)
    if action not in model.operation_names:
        raise Refusal(400, "InvalidAction", "InvalidAction",
                      f"The action {action} is not valid for {service}.", service)
    return action, params


def _rest_json(service: str, environ: Mapping[str, Any], body: bytes) -> tuple[str, dict]:
    path = str(environ.get("PATH_INFO", ""))
    method = str(environ.get("REQUEST_METHOD", "GET"))
    if method not in ("POST", "PUT", "PATCH") or path.rstrip("/").endswith(_INVOKE_SUFFIX):
        return "", {}  # an Invoke's payload is the function's business (invoke_api.py)
    params = _json_object(service, body, "InvalidRequestContentException",
                          "Could not parse request body into json")
    return "", params


def check_request(service: str, environ: Mapping[str, Any],
                  body: bytes) -> tuple[str, dict[str, Any]]:
    """(operation, parameters) of a well-formed request; raise ``Refusal`` (400) otherwise.

    The operation is "" for Lambda (its path names it), parameters {} where there is no body.

    Example
    -------
    >>> try:
    ...     check_request("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Nope"}, b"{}")
    ... except Refusal as refusal:
    ...     print(refusal.status, refusal.json_code)
    400 UnknownOperationException
    """
    model = _model(service)
    form = "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", ""))
    if model.protocol == "query" or (form and service == "sqs"):  # SQS also takes forms
        return _query_protocol(service, model, environ, body)
    if model.protocol == "json":
        return _json_protocol(service, model, environ, body)
    if model.protocol == "rest-json":
        return _rest_json(service, environ, body)
    return "", {}
