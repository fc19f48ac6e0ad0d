"""Raw HTTP requests to a local cloud, as an attacker (or a careless client) would send them.

boto3 always signs, always sets the right Host and never sends a 40 MB body with a lying
Content-Length; these helpers do exactly what they are told, so the tests of the local
cloud's front door (tests/local_cloud/test_security_*.py) can send what boto3 never would.

Example
-------
>>> answer = RawAnswer(403, {"content-type": "application/json"},
...                    b'{"__type": "UnrecognizedClientException", "message": "no"}')
>>> answer.code
'UnrecognizedClientException'
"""

from __future__ import annotations

import datetime
import http.client
import json
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wildrydes_helpers.local.credentials import HomeCredentials

_XML_CODE = re.compile(rb"<Code>([^<]+)</Code>")
# A signature of the shape AWS's tools send, from a key the local cloud never made.
FORGED_AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{date}/us-east-1/{service}/"
                        "aws4_request, SignedHeaders=host;x-amz-date, Signature=00")


@dataclass
class RawAnswer:
    """What the local cloud answered: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        """The AWS error code, from a JSON (``__type``) or XML (``<Code>``) error body.

        Example
        -------
        >>> RawAnswer(400, {}, b"<ErrorResponse><Error><Code>InvalidAction</Code>").code
        'InvalidAction'
        """
        match = _XML_CODE.search(self.body)
        if match:
            return match.group(1).decode()
        try:
            return str(json.loads(self.body).get("__type", ""))
        except (ValueError, AttributeError):
            return ""

    def cors_headers(self) -> dict[str, str]:
        """The answer's ``Access-Control-*`` headers (none, where a page may read nothing).

        Example
        -------
        >>> RawAnswer(200, {"access-control-allow-origin": "*"}, b"").cors_headers()
        {'access-control-allow-origin': '*'}
        """
        return {k: v for k, v in self.headers.items() if k.startswith("access-control-")}


def host_of(endpoint: str) -> str:
    """The Host header a client of ``endpoint`` sends.

    Example
    -------
    >>> host_of("http://127.0.0.1:4599")
    '127.0.0.1:4599'
    """
    return urlsplit(endpoint).netloc


def send(endpoint: str, method: str, target: str, body: bytes = b"",
         headers: Mapping[str, str] | None = None, timeout: float = 60.0) -> RawAnswer:
    """Send one request exactly as given (Host: the endpoint's unless ``headers`` has one).

    Example
    -------
    >>> send("http://127.0.0.1:4599", "GET", "/_wildrydes/status").status  # doctest: +SKIP
    200
    """
    parts = urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": parts.netloc, "Content-Length": str(len(body))}
        sent.update(headers or {})
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return RawAnswer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def signed_headers(endpoint: str, method: str, target: str, body: bytes, service: str,
                   credentials: HomeCredentials, region: str = "us-east-1",
                   headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of the request signed with ``credentials`` by botocore's SigV4 signer.

    Example
    -------
    >>> signed = signed_headers("http://127.0.0.1:4599", "POST", "/", b"{}", "dynamodb",
    ...                         HomeCredentials("LOCALKEY", "secret"))
    >>> signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=LOCALKEY/")
    True
    """
    request = AWSRequest(method=method, url=endpoint + target, data=body,
                         headers=dict(headers or {}))
    key = Credentials(credentials.access_key_id, credentials.secret_access_key)
    SigV4Auth(key, service, region).add_auth(request)
    return dict(request.headers.items())


def send_signed(endpoint: str, method: str, target: str, body: bytes, service: str,
                credentials: HomeCredentials, region: str = "us-east-1",
                headers: Mapping[str, str] | None = None, timeout: float = 60.0) -> RawAnswer:
    """Sign with ``credentials`` (botocore's signer), then send as given.

    Example
    -------
    >>> send_signed(endpoint, "POST", "/", b"{}", "dynamodb", home,
    ...             headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})  # doctest: +SKIP
    RawAnswer(status=200, ...)
    """
    signed = signed_headers(endpoint, method, target, body, service, credentials, region,
                            headers)
    return send(endpoint, method, target, body, signed, timeout)


def presigned_target(endpoint: str, target: str, service: str, credentials: HomeCredentials,
                     region: str = "us-east-1", expires: int = 60) -> str:
    """A path and query signed in the query string (``X-Amz-Signature``), as presigned URLs are.

    Example
    -------
    >>> "X-Amz-Signature=" in presigned_target("http://127.0.0.1:4599", "/?Action=A", "sts",
    ...                                        HomeCredentials("LOCALKEY", "secret"))
    True
    """
    request = AWSRequest(method="GET", url=endpoint + target)
    key = Credentials(credentials.access_key_id, credentials.secret_access_key)
    SigV4QueryAuth(key, service, region, expires=expires).add_auth(request)
    return request.url[len(endpoint):]


def forged_headers(service: str, host: str | None = None) -> dict[str, str]:
    """The headers of a request with a made-up key and ``Signature=00``.

    Example
    -------
    >>> forged_headers("iam", "attacker.example")["Host"]
    'attacker.example'
    """
    now = datetime.datetime.now(datetime.UTC)
    headers = {"Authorization": FORGED_AUTHORIZATION.format(date=now.strftime("%Y%m%d"),
                                                            service=service),
               "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ")}
    if host is not None:
        headers["Host"] = host
    return headers


def headers_only(endpoint: str, head: str, timeout: float = 10.0) -> bytes:
    """Send only a request's head (no body, whatever its Content-Length says); return the
    first bytes of the answer, or b"" when none comes within ``timeout`` seconds.

    Example
    -------
    >>> headers_only(endpoint, "POST / HTTP/1.1\\r\\nContent-Length: 9\\r\\n")  # doctest: +SKIP
    b'HTTP/1.1 413 ...'
    """
    parts = urlsplit(endpoint)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.encode() + b"\r\n")
        try:
            return sock.recv(200)
        except TimeoutError:
            return b""
