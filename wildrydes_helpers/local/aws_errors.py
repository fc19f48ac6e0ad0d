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


def query_xml_error(status: int, code: str, message: str) -> Response:
    """The error shape of query-protocol services (form-encoded requests, XML answers).

    Example
    -------
    >>> b"<Code>Nope</Code>" in query_xml_error(400, "Nope", "a < b").get_data()
    True
    """
    body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}"
            "</Message></Error></Errors><RequestID>0</RequestID></Response>")
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
    # Query-protocol services (ec2, iam-like) and S3 cannot parse a JSON error body.
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        return query_xml_error(400, code, message)
    if service == "s3":
        return s3_xml_error(400, code, message)
    return json_error(400, code, message)
