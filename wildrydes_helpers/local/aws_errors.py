"""AWS error shapes the local cloud answers with: JSON for most services, XML for the rest.

boto3 and the AWS CLI turn each of these into a ``ClientError`` carrying the code. This
module imports nothing of the local cloud, so every route can use it.

Example
-------
>>> json_error(404, "ResourceNotFoundException", "no such thing").status_code
404
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response


class AwsApiError(Exception):
    """An error a route answers with: its HTTP status, AWS error code and message.

    Example
    -------
    >>> err = AwsApiError(400, "InvalidParameterValueException", "bad")
    >>> err.status, err.code, err.message
    (400, 'InvalidParameterValueException', 'bad')
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        """The error as an AWS-style JSON response.

        Example
        -------
        >>> AwsApiError(409, "ResourceConflictException", "taken").response().status_code
        409
        """
        return json_error(self.status, self.code, self.message)


def json_error(status: int, error_type: str, message: str) -> Response:
    """An AWS-style JSON error that boto3 turns into a ClientError with this code.

    Example
    -------
    >>> json_error(400, "ValidationException", "bad").headers["x-amzn-ErrorType"]
    'ValidationException'
    """
    body = json.dumps({"__type": error_type, "Type": "User", "message": message,
                       "Message": message})
    return Response(body, status=status, content_type="application/json",
                    headers={"x-amzn-ErrorType": error_type})


def query_xml_error(status: int, code: str, message: str, sender: bool = True) -> Response:
    """The error shape of query-protocol services (IAM, STS, SNS, SQS's form API): an XML
    ``ErrorResponse``.

    Example
    -------
    >>> b"<Code>Nope</Code>" in query_xml_error(400, "Nope", "a < b").get_data()
    True
    """
    kind = "Sender" if sender else "Receiver"
    body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return Response(body, status=status, content_type="text/xml")


def s3_xml_error(status: int, code: str, message: str) -> Response:
    """The error shape of S3.

    Example
    -------
    >>> s3_xml_error(400, "Nope", "no").content_type
    'application/xml'
    """
    body = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    return Response(body, status=status, content_type="application/xml")


# Services whose API is the query protocol (form-encoded requests, XML answers).
QUERY_SERVICES = frozenset({"iam", "sts", "sns", "ec2", "rds", "cloudformation", "elasticache",
                            "autoscaling", "cloudwatch", "monitoring", "ses", "redshift"})


def protocol_of(environ: dict[str, Any], service: str | None = None) -> str:
    """How the caller's SDK expects an error: ``"query"`` (XML), ``"s3"`` or ``"json"``.

    Told by the request itself (a form-encoded body or an ``Action`` in the query string is
    the query protocol), else by the service the request names.

    Example
    -------
    >>> protocol_of({"CONTENT_TYPE": "application/x-www-form-urlencoded"})
    'query'
    >>> protocol_of({"CONTENT_TYPE": "application/x-amz-json-1.0"}, "dynamodb")
    'json'
    """
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        return "query"
    if "Action=" in environ.get("QUERY_STRING", "") or service in QUERY_SERVICES:
        return "query"
    return "s3" if service == "s3" else "json"


class Refusal(Exception):
    """A request the local cloud turns away, answered in the caller's protocol.

    ``json_code`` is the error code of JSON services (DynamoDB, Kinesis, Lambda...),
    ``query_code`` the one of query services (IAM, STS, SNS), as AWS names them.

    Example
    -------
    >>> refusal = Refusal(403, "UnrecognizedClientException", "InvalidClientTokenId", "no")
    >>> refusal.response({"CONTENT_TYPE": "application/x-amz-json-1.0"}).status_code
    403
    >>> refusal.code_for({"CONTENT_TYPE": "application/x-www-form-urlencoded"})
    'InvalidClientTokenId'
    """

    def __init__(self, status: int, json_code: str, query_code: str, message: str,
                 service: str | None = None) -> None:
        super().__init__(message)
        self.status, self.json_code, self.query_code = status, json_code, query_code
        self.message, self.service = message, service

    def code_for(self, environ: dict[str, Any]) -> str:
        """The error code the caller's protocol uses."""
        return self.query_code if protocol_of(environ, self.service) != "json" else self.json_code

    def response(self, environ: dict[str, Any]) -> Response:
        """The refusal as an AWS error response the caller's SDK can parse."""
        protocol = protocol_of(environ, self.service)
        if protocol == "query":
            return query_xml_error(self.status, self.query_code, self.message)
        if protocol == "s3":
            return s3_xml_error(self.status, self.query_code, self.message)
        return json_error(self.status, self.json_code, self.message)


def unknown_service_error(environ: dict[str, Any], service: str,
                          served: Iterable[str]) -> Response:
    """An error naming the ``served`` services, in the format the caller's SDK can parse.

    Example
    -------
    >>> unknown_service_error({}, "ec2", ("kinesis",)).status_code
    400
    """
    message = (f"The local cloud serves {', '.join(served)}; '{service}' is not one "
               "of them. The lab needs no other service; for anything else use "
               "WILDRYDES_BACKEND=aws.")
    code = "UnknownServiceException"
    return Refusal(400, code, code, message, service).response(environ)
