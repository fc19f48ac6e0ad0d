"""The local cloud's size limits, as AWS's: request bodies, Kinesis records, unzipped code.

A body over its service's limit is refused from its Content-Length, before a byte of it is
read (``check_body_size``), so a 40 MB request costs the local cloud nothing.

Example
-------
>>> max_body_bytes("dynamodb", "/")
16777216
>>> max_body_bytes("lambda", "/2015-03-31/functions/fn/invocations")
6291456
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from .aws_errors import Refusal

MIB = 1024 * 1024
# Lambda: 6 MB synchronous payloads; CreateFunction/UpdateFunctionCode carry a base64 zip of
# up to 50 MB, which AWS caps at 70,167,211 bytes of request.
INVOKE_MAX_BYTES = 6 * MIB
FUNCTION_CODE_MAX_BYTES = 70_167_211
UNZIPPED_CODE_MAX_BYTES = 262_144_000  # 250 MB
KINESIS_RECORD_MAX_BYTES = MIB  # data blob, before base64
MAX_BODY_BYTES: dict[str, int] = {
    "dynamodb": 16 * MIB,  # BatchWriteItem's 16 MB
    "kinesis": 8 * MIB,  # PutRecords: 5 MiB of records, base64-encoded in JSON
    "lambda": FUNCTION_CODE_MAX_BYTES,
    "logs": 4 * MIB,  # PutLogEvents: 1 MiB of events, JSON-escaped
    "sqs": 4 * MIB,  # 1 MiB messages, batches of 10, encoded
    "sns": 4 * MIB,
    "iam": MIB,
    "sts": MIB,
}
DEFAULT_MAX_BODY_BYTES = MIB  # control routes, and any request the local cloud will refuse
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$")
_CODE_PATHS = (re.compile(r"^/2015-03-31/functions/?$"),
               re.compile(r"^/2015-03-31/functions/[^/]+/code/?$"))


def max_body_bytes(service: str | None, path: str) -> int:
    """The largest body AWS takes for a request of ``service`` to ``path``.

    Example
    -------
    >>> max_body_bytes(None, "/_wildrydes/faults")
    1048576
    """
    if service == "lambda" and _INVOKE_PATH.match(path):
        return INVOKE_MAX_BYTES
    return MAX_BODY_BYTES.get(service or "", DEFAULT_MAX_BODY_BYTES)


def _too_large(service: str | None, path: str, limit: int) -> Refusal:
    if service == "lambda" and _INVOKE_PATH.match(path):
        return Refusal(413, "RequestTooLargeException", "RequestTooLarge",
                       f"Request must be smaller than {limit} bytes for the InvokeFunction "
                       "operation.", service)
    return Refusal(413, "RequestEntityTooLargeException", "RequestEntityTooLarge",
                   f"Request must be smaller than {limit} bytes for {service or 'this'} "
                   "requests; the local cloud did not read it.", service)


def check_body_size(environ: Mapping[str, Any], service: str | None) -> int | None:
    """The body's declared length, once it is known to be within the limit (None: chunked).

    Raises ``Refusal`` (HTTP 413) from the Content-Length alone, or (400) when the header
    is not a number.

    Example
    -------
    >>> check_body_size({"CONTENT_LENGTH": "12"}, "kinesis")
    12
    >>> try:
    ...     check_body_size({"CONTENT_LENGTH": str(40 * MIB)}, "dynamodb")
    ... except Refusal as refusal:
    ...     print(refusal.status, refusal.json_code)
    413 RequestEntityTooLargeException
    """
    path = str(environ.get("PATH_INFO", ""))
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return None
    # isascii too: "²".isdigit() is true, and int() would fail on it with a 500.
    if not (raw.isascii() and raw.isdigit()):
        raise Refusal(400, "SerializationException", "MalformedInput",
                      f"Content-Length {raw!r} is not a number.", service)
    length = int(raw)
    limit = max_body_bytes(service, path)
    if length > limit:
        raise _too_large(service, path, limit)
    return length


def read_body(environ: dict[str, Any], service: str | None, length: int | None) -> bytes:
    """Read the whole body (at most the service's limit) and put it back for the next reader.

    Example
    -------
    >>> env = {"wsgi.input": io.BytesIO(b"{}"), "CONTENT_LENGTH": "2"}
    >>> read_body(env, "dynamodb", 2), env["wsgi.input"].read()
    (b'{}', b'{}')
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length is None:
        # No Content-Length: read a chunked body up to the limit, and no further.
        if not environ.get("wsgi.input_terminated"):
            body = b""
        else:
            limit = max_body_bytes(service, str(environ.get("PATH_INFO", "")))
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise _too_large(service, str(environ.get("PATH_INFO", "")), limit)
    else:
        body = stream.read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)
    return body


def _blob_bytes(value: Any) -> int:
    """The decoded size of a base64 blob, counted without decoding it."""
    text = value if isinstance(value, str) else ""
    stripped = text.rstrip("=")
    return len(stripped) * 3 // 4


def _record_error(member: str) -> Refusal:
    return Refusal(400, "ValidationException", "ValidationError",
                   f"1 validation error detected: Value at '{member}' failed to satisfy "
                   f"constraint: Member must have length less than or equal to "
                   f"{KINESIS_RECORD_MAX_BYTES}", "kinesis")


def check_kinesis_records(operation: str, params: Mapping[str, Any]) -> None:
    """Refuse a PutRecord, or a PutRecords entry, whose data is over 1 MiB, as Kinesis does.

    Example
    -------
    >>> check_kinesis_records("PutRecord", {"Data": "QUJD"})
    >>> try:
    ...     check_kinesis_records("PutRecords", {"Records": [{"Data": "A" * 1_500_000}]})
    ... except Refusal as refusal:
    ...     print(refusal.message.split(" failed")[0])
    1 validation error detected: Value at 'records.1.member.data'
    """
    if operation == "PutRecord":
        if _blob_bytes(params.get("Data")) > KINESIS_RECORD_MAX_BYTES:
            raise _record_error("data")
    elif operation == "PutRecords":
        records = params.get("Records")
        for number, record in enumerate(records if isinstance(records, list) else [], 1):
            if isinstance(record, Mapping) and \
                    _blob_bytes(record.get("Data")) > KINESIS_RECORD_MAX_BYTES:
                raise _record_error(f"records.{number}.member.data")


def _code_error(message: str) -> Refusal:
    return Refusal(400, "InvalidParameterValueException", "InvalidParameterValue", message,
                   "lambda")


def check_function_code(method: str, path: str, body: bytes) -> None:
    """Refuse function code that is not a zip, or that unzips to more than 250 MB.

    The sizes are the ones the zip's directory states; the runtime's extraction never
    writes more than a member's stated size (zipfile stops there and checks its CRC).

    Example
    -------
    >>> check_function_code("GET", "/2015-03-31/functions/", b"")
    >>> try:
    ...     check_function_code("POST", "/2015-03-31/functions",
    ...                         json.dumps({"Code": {"ZipFile": "bm90IGEgemlw"}}).encode())
    ... except Refusal as refusal:
    ...     print(refusal.message.split(".")[0])
    Could not unzip uploaded file
    """
    if method not in ("POST", "PUT") or not any(p.match(path) for p in _CODE_PATHS):
        return
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return  # the JSON check answers this one
    if not isinstance(params, dict):
        return
    code = params.get("Code") if method == "POST" else params
    encoded = code.get("ZipFile") if isinstance(code, dict) else None
    if not isinstance(encoded, str):
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(encoded, validate=True)))
        unzipped = sum(member.file_size for member in archive.infolist())
    except (binascii.Error, ValueError, zipfile.BadZipFile, OSError):
        raise _code_error("Could not unzip uploaded file. Please check your file, then try to "
                          "upload again.") from None
    if unzipped > UNZIPPED_CODE_MAX_BYTES:
        raise _code_error(f"Unzipped size must be smaller than {UNZIPPED_CODE_MAX_BYTES} "
                          f"bytes (this code unzips to {unzipped} bytes).")
