"""Who may use the local cloud: every AWS request must be signed with the home's credentials.

The local cloud checks an AWS Signature Version 4 as AWS does: it recomputes the signature
of the request it received, with **botocore's own signer** (``SigV4Auth``, or
``SigV4QueryAuth`` for a presigned URL) fed with the request's method, path, query, signed
headers, body and timestamp and the home's secret key, and compares the two with
``hmac.compare_digest``. No cryptography is written here.

Refusals, in AWS's words (HTTP 403 unless said):

- no signature: ``MissingAuthenticationTokenException`` / ``MissingAuthenticationToken``;
- a key that is not the home's: ``UnrecognizedClientException`` / ``InvalidClientTokenId``;
- a wrong signature, or one older than 15 minutes: ``InvalidSignatureException`` /
  ``SignatureDoesNotMatch``;
- a malformed Authorization header (400): ``IncompleteSignatureException`` /
  ``IncompleteSignature``.

The first code is the one JSON services (DynamoDB, Kinesis, Lambda, Logs, SQS) use, the second
the one of query services (IAM, STS, SNS).

Example
-------
>>> from wildrydes_helpers.local.credentials import HomeCredentials
>>> home = HomeCredentials("LOCALEXAMPLEKEY0001", "s" * 40)
>>> headers = sign_request("GET", "http://127.0.0.1:4599/_wildrydes/faults", b"", {}, home)
>>> environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/_wildrydes/faults",
...            "HTTP_HOST": "127.0.0.1:4599"}
>>> environ |= {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
>>> verify_request(environ, b"", home).service
'wildrydes'
>>> environ["HTTP_AUTHORIZATION"] = environ["HTTP_AUTHORIZATION"][:-2] + "00"
>>> try:
...     verify_request(environ, b"", home)
... except Refusal as refusal:
...     print(refusal.json_code)
InvalidSignatureException
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SIGV4_TIMESTAMP, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from .aws_errors import Refusal
from .credentials import HomeCredentials

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses a signature whose time is more than 15 minutes away from its own clock.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
# The service name the lab's own tools sign the local cloud's control routes with.
CONTROL_SERVICE = "wildrydes"
_TIMESTAMP = re.compile(r"\d{8}T\d{6}Z")
_ENV_WITHOUT_HTTP_PREFIX = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_HOW_TO_SIGN = ("The local cloud accepts only requests signed with its home's credentials: use "
                "the lab's helpers, or run `eval \"$(wildrydes local env)\"` in a terminal "
                "before the AWS CLI or a boto3 program.")


@dataclass(frozen=True)
class Signature:
    """The signature a request carries, as the request states it (not yet verified).

    Example
    -------
    >>> Signature("AKID", "20260101", "us-east-1", "kinesis", ("host",), "ab",
    ...           "20260101T000000Z").scope
    '20260101/us-east-1/kinesis/aws4_request'
    """

    access_key_id: str
    date: str  # the credential scope's date, YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # the request's time, YYYYMMDDTHHMMSSZ
    presigned: bool = False
    expires_s: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def _incomplete(message: str, service: str | None = None) -> Refusal:
    return Refusal(400, "IncompleteSignatureException", "IncompleteSignature", message, service)


def _bad_signature(message: str, service: str | None) -> Refusal:
    return Refusal(403, "InvalidSignatureException", "SignatureDoesNotMatch", message, service)


def missing_signature(service: str | None = None) -> Refusal:
    """The refusal of a request that carries no signature at all.

    Example
    -------
    >>> missing_signature().json_code
    'MissingAuthenticationTokenException'
    """
    return Refusal(403, "MissingAuthenticationTokenException", "MissingAuthenticationToken",
                   f"Missing Authentication Token. {_HOW_TO_SIGN}", service)


def _scope_parts(credential: str, service_hint: str | None = None) -> tuple[str, ...]:
    parts = tuple(credential.split("/"))
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise _incomplete(f"Credential {credential!r} is malformed: it must be "
                          "KEY/YYYYMMDD/REGION/SERVICE/aws4_request.", service_hint)
    return parts


def _header_signature(header: str, environ: Mapping[str, Any]) -> Signature:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"The Authorization header uses {algorithm or 'no algorithm'!r}; the "
                          f"local cloud accepts AWS Signature Version 4 ({ALGORITHM}) only.")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise _incomplete(f"Authorization header requires {', '.join(missing)}; "
                          f"{_HOW_TO_SIGN}")
    key, date, region, service, _ = _scope_parts(fields["Credential"])
    timestamp = environ.get("HTTP_X_AMZ_DATE", "")
    if not timestamp and environ.get("HTTP_DATE"):
        try:
            when = parsedate_to_datetime(environ["HTTP_DATE"])
        except (TypeError, ValueError):
            raise _incomplete("The Date header is not a date.", service) from None
        timestamp = when.astimezone(datetime.UTC).strftime(SIGV4_TIMESTAMP)
    if not timestamp:
        raise _incomplete("Authorization header requires existence of either a 'X-Amz-Date' "
                          "or a 'Date' header.", service)
    return Signature(key, date, region, service.lower(),
                     tuple(fields["SignedHeaders"].lower().split(";")),
                     fields["Signature"], timestamp)


def _query_signature(query: Mapping[str, str]) -> Signature:
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise _incomplete(f"X-Amz-Algorithm must be {ALGORITHM}.")
    missing = [k for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                           "X-Amz-Signature") if not query.get(k)]
    if missing:
        raise _incomplete(f"A presigned request requires {', '.join(missing)}.")
    key, date, region, service, _ = _scope_parts(query["X-Amz-Credential"])
    try:
        expires = int(query.get("X-Amz-Expires", "900"))
    except ValueError:
        raise _incomplete("X-Amz-Expires must be a whole number of seconds.", service) from None
    return Signature(key, date, region, service.lower(),
                     tuple(query["X-Amz-SignedHeaders"].lower().split(";")),
                     query["X-Amz-Signature"], query["X-Amz-Date"], presigned=True,
                     expires_s=expires)


def read_signature(environ: Mapping[str, Any]) -> Signature | None:
    """The signature a request states (Authorization header, or presigned query), or None.

    Raises ``Refusal`` (IncompleteSignature) when there is one but it is malformed. Nothing
    is verified here: ``verify_request`` does that.

    Example
    -------
    >>> read_signature({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20240501/"
    ...                 "us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, "
    ...                 "Signature=ab", "HTTP_X_AMZ_DATE": "20240501T000000Z"}).service
    'kinesis'
    >>> read_signature({}) is None
    True
    """
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header:
        return _header_signature(header, environ)
    query_string = environ.get("QUERY_STRING", "")
    if "X-Amz-Signature=" in query_string or "X-Amz-Credential=" in query_string:
        return _query_signature(dict(parse_qsl(query_string, keep_blank_values=True)))
    return None


def _timestamp(text: str, service: str) -> datetime.datetime:
    # Parsed by hand: strptime costs a tenth of a verification.
    try:
        if not _TIMESTAMP.fullmatch(text):
            raise ValueError(text)
        return datetime.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]),
                                 int(text[9:11]), int(text[11:13]), int(text[13:15]),
                                 tzinfo=datetime.UTC)
    except ValueError:
        raise _incomplete(f"Date {text!r} must be in ISO 8601 basic format "
                          "(YYYYMMDD'T'HHMMSS'Z').", service) from None


def _check_time(sig: Signature, now: datetime.datetime) -> None:
    when = _timestamp(sig.timestamp, sig.service)
    if sig.date != sig.timestamp[:8]:
        raise _bad_signature(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                             f"version of date from HTTP: '{sig.date}' != "
                             f"'{sig.timestamp[:8]}'.", sig.service)
    shown = now.strftime(SIGV4_TIMESTAMP)
    if sig.presigned:
        if now > when + datetime.timedelta(seconds=sig.expires_s or 0):
            raise _bad_signature(f"Signature expired: the presigned request of "
                                 f"{sig.timestamp} was valid for {sig.expires_s} s; it is now "
                                 f"{shown}.", sig.service)
        return
    if when < now - MAX_CLOCK_SKEW:
        raise _bad_signature(f"Signature expired: {sig.timestamp} is now earlier than "
                             f"{(now - MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)} ({shown} - "
                             "15 min.). Check this computer's clock.", sig.service)
    if when > now + MAX_CLOCK_SKEW:
        raise _bad_signature(f"Signature not yet current: {sig.timestamp} is still later than "
                             f"{(now + MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)} ({shown} + "
                             "15 min.). Check this computer's clock.", sig.service)


def _environ_header(environ: Mapping[str, Any], name: str) -> str | None:
    key = _ENV_WITHOUT_HTTP_PREFIX.get(name) or "HTTP_" + name.upper().replace("-", "_")
    value = environ.get(key)
    return None if value is None else str(value)


def _target(environ: Mapping[str, Any], presigned: bool) -> str:
    """The path and query as the client sent them (minus a presigned X-Amz-Signature)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        raw = quote(environ.get("PATH_INFO", "") or "/", safe="/~!$&'()*+,;=:@%")
        if environ.get("QUERY_STRING"):
            raw += "?" + environ["QUERY_STRING"]
    if "://" in raw.split("?", 1)[0]:  # an absolute-form request target
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    if presigned:
        path, _, query = raw.partition("?")
        kept = [p for p in query.split("&") if p.partition("=")[0] != "X-Amz-Signature"]
        raw = path + ("?" + "&".join(kept) if kept else "")
    return raw


@dataclass
class _ReceivedRequest:
    """The request as botocore's signer reads it (the attributes of an ``AWSRequest``).

    An ``AWSRequest`` would first "prepare" itself, copying every header again, on each
    read of its body: a third of a verification. The signer needs only these attributes.
    """

    method: str
    url: str
    headers: HTTPHeaders
    body: bytes
    params: dict[str, str]
    context: dict[str, Any]


def verify_request(environ: Mapping[str, Any], body: bytes, credentials: HomeCredentials,
                   now: datetime.datetime | None = None) -> Signature:
    """Check that the request was signed with ``credentials``; return its signature's scope.

    Parameters
    ----------
    environ : the request's WSGI environ (headers, method, raw path and query).
    body : the request's body, exactly as received.
    credentials : the home's key pair.
    now : the local cloud's clock (tests pass a fixed time).

    Raises
    ------
    Refusal
        MissingAuthenticationToken, UnrecognizedClient / InvalidClientTokenId,
        InvalidSignature / SignatureDoesNotMatch or IncompleteSignature, as AWS answers.

    Example
    -------
    >>> from wildrydes_helpers.local.credentials import HomeCredentials
    >>> try:
    ...     verify_request({}, b"", HomeCredentials("K", "s"))
    ... except Refusal as refusal:
    ...     print(refusal.status, refusal.json_code)
    403 MissingAuthenticationTokenException
    """
    sig = read_signature(environ)
    if sig is None:
        raise missing_signature()
    if not hmac.compare_digest(sig.access_key_id.encode(), credentials.access_key_id.encode()):
        raise Refusal(403, "UnrecognizedClientException", "InvalidClientTokenId",
                      "The security token included in the request is invalid: its access key "
                      f"id is not this local cloud's. {_HOW_TO_SIGN}", sig.service)
    if "host" not in sig.signed_headers:
        raise _incomplete("The signature must cover the Host header.", sig.service)
    if not sig.presigned and not {"x-amz-date", "date"} & set(sig.signed_headers):
        raise _incomplete("The signature must cover the X-Amz-Date (or Date) header.",
                          sig.service)
    _check_time(sig, now or datetime.datetime.now(datetime.UTC))
    claimed_sha = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
    if claimed_sha is not None and not hmac.compare_digest(
            claimed_sha.encode(), hashlib.sha256(body).hexdigest().encode()):
        raise _bad_signature("X-Amz-Content-SHA256 does not match the body the local cloud "
                             "received.", sig.service)
    headers: dict[str, str] = {}
    for name in sig.signed_headers:
        value = _environ_header(environ, name)
        if value is None:
            raise _bad_signature(f"The signed header {name!r} is missing from the request.",
                                 sig.service)
        headers[name] = value
    request = _ReceivedRequest(str(environ.get("REQUEST_METHOD", "GET")),
                               f"http://{headers['host']}{_target(environ, sig.presigned)}",
                               HTTPHeaders(), body, {}, {"timestamp": sig.timestamp})
    for name, value in headers.items():
        request.headers[name] = value
    home = Credentials(credentials.access_key_id, credentials.secret_access_key)
    signer_class = SigV4QueryAuth if sig.presigned else SigV4Auth
    signer = signer_class(home, sig.service, sig.region)
    never_signed = sorted(set(sig.signed_headers) & set(SIGNED_HEADERS_BLACKLIST))
    if never_signed:
        raise _bad_signature("The request signs headers the AWS signer never signs: "
                             f"{', '.join(never_signed)}.", sig.service)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected.encode(), sig.signature.encode()):
        raise _bad_signature("The request signature we calculated does not match the signature "
                             "you provided. Check your AWS Secret Access Key and signing method "
                             f"(the local cloud's are in its home). {_HOW_TO_SIGN}", sig.service)
    return sig


def sign_request(method: str, url: str, body: bytes, headers: Mapping[str, str],
                 credentials: HomeCredentials, region: str = "us-east-1",
                 service: str = CONTROL_SERVICE) -> dict[str, str]:
    """The headers of a request signed with a home's credentials (botocore's SigV4 signer).

    For the lab's own calls of the local cloud's control routes (``/_wildrydes/...``).

    Example
    -------
    >>> from wildrydes_helpers.local.credentials import HomeCredentials
    >>> signed = sign_request("PUT", "http://127.0.0.1:4599/_wildrydes/faults", b"{}",
    ...                       {"Content-Type": "application/json"}, HomeCredentials("K", "s"))
    >>> signed["Authorization"].split("/")[0]
    'AWS4-HMAC-SHA256 Credential=K'
    """
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    home = Credentials(credentials.access_key_id, credentials.secret_access_key)
    SigV4Auth(home, service, region).add_auth(request)
    return dict(request.headers.items())
