"""The signature check itself (local/auth.py), on WSGI environs built here: no server needed.

Each request is signed by botocore's own signer (as boto3 and the AWS CLI sign), then
changed the way a forger or a broken client would change it.
"""

from __future__ import annotations

import datetime
import hashlib
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wildrydes_helpers.local.auth import read_signature, verify_request
from wildrydes_helpers.local.aws_errors import Refusal
from wildrydes_helpers.local.credentials import HomeCredentials

HOME = HomeCredentials("LOCAL" + "A" * 15, "b" * 40)
HOST = "127.0.0.1:4599"
NOW = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


def _environ(request: AWSRequest, body: bytes) -> dict[str, Any]:
    """The WSGI environ werkzeug's server builds for ``request``."""
    parts = urlsplit(request.url)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method, "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
        "HTTP_HOST": HOST, "CONTENT_LENGTH": str(len(body))}
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def _signed(body: bytes = b"{}", headers: dict[str, str] | None = None,
            credentials: HomeCredentials = HOME, path: str = "/") -> dict[str, Any]:
    request = AWSRequest(method="POST", url=f"http://{HOST}{path}", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.0",
                                  "X-Amz-Target": "DynamoDB_20120810.ListTables",
                                  **(headers or {})})
    signer = SigV4Auth(Credentials(credentials.access_key_id, credentials.secret_access_key),
                       "dynamodb", "us-east-1")
    signer.add_auth(request)
    return _environ(request, body)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs at NOW (naive UTC, as get_current_datetime gives)."""
    monkeypatch.setattr("botocore.auth.get_current_datetime",
                        lambda: NOW.replace(tzinfo=None))


def _refused(environ: dict[str, Any], body: bytes, now: datetime.datetime = NOW) -> Refusal:
    with pytest.raises(Refusal) as refused:
        verify_request(environ, body, HOME, now=now)
    return refused.value


def test_a_request_boto3_signed_is_accepted() -> None:
    sig = verify_request(_signed(), b"{}", HOME, now=NOW)
    assert (sig.service, sig.region, sig.access_key_id) == ("dynamodb", "us-east-1",
                                                            HOME.access_key_id)


def test_a_session_token_rides_along_without_harm() -> None:
    environ = _signed(headers={"X-Amz-Security-Token": "t" * 40})
    assert verify_request(environ, b"{}", HOME, now=NOW).service == "dynamodb"


@pytest.mark.parametrize("change, code", [
    (lambda e: e.update(HTTP_X_AMZ_TARGET="DynamoDB_20120810.DeleteTable"),
     "InvalidSignatureException"),
    (lambda e: e.update(RAW_URI="/other"), "InvalidSignatureException"),
    (lambda e: e.update(REQUEST_METHOD="PUT"), "InvalidSignatureException"),
    (lambda e: e.update(HTTP_HOST="localhost:4599"), "InvalidSignatureException"),
    (lambda e: e.update(HTTP_X_AMZ_DATE="20260501T120001Z"), "InvalidSignatureException"),
    (lambda e: e.pop("HTTP_X_AMZ_TARGET"), "InvalidSignatureException"),
    (lambda e: e.update(HTTP_AUTHORIZATION=e["HTTP_AUTHORIZATION"].replace(
        "us-east-1", "eu-west-1")), "InvalidSignatureException"),
    (lambda e: e.update(HTTP_AUTHORIZATION=e["HTTP_AUTHORIZATION"].replace(
        HOME.access_key_id, "LOCAL" + "C" * 15)), "UnrecognizedClientException"),
    (lambda e: e.update(HTTP_AUTHORIZATION=e["HTTP_AUTHORIZATION"].replace(
        "SignedHeaders=", "SignedHeaders=user-agent;")), "InvalidSignatureException"),
    (lambda e: e.update(HTTP_AUTHORIZATION=e["HTTP_AUTHORIZATION"].replace(
        "x-amz-date;", "")), "IncompleteSignatureException"),
    (lambda e: e.update(HTTP_AUTHORIZATION=e["HTTP_AUTHORIZATION"].replace(
        "host;", "")), "IncompleteSignatureException"),
    (lambda e: e.update(HTTP_X_AMZ_CONTENT_SHA256="UNSIGNED-PAYLOAD"),
     "InvalidSignatureException"),
    (lambda e: e.pop("HTTP_AUTHORIZATION"), "MissingAuthenticationTokenException"),
])
def test_any_change_to_a_signed_request_is_refused(change: Any, code: str) -> None:
    environ = _signed()
    change(environ)
    assert _refused(environ, b"{}").json_code == code


def test_the_body_is_covered_by_the_signature() -> None:
    assert _refused(_signed(b'{"Limit": 1}'), b'{"Limit": 2}').json_code == (
        "InvalidSignatureException")


def test_the_signature_is_good_for_15_minutes_either_way() -> None:
    environ = _signed()
    for minutes in (-14, 14):
        verify_request(environ, b"{}", HOME, now=NOW + datetime.timedelta(minutes=minutes))
    for minutes in (-16, 16):
        refusal = _refused(environ, b"{}", NOW + datetime.timedelta(minutes=minutes))
        assert refusal.status == 403 and "15 min" in refusal.message


def test_a_date_header_instead_of_x_amz_date() -> None:
    environ = _signed(headers={"Date": format_datetime(NOW, usegmt=True)})
    assert "HTTP_X_AMZ_DATE" not in environ  # botocore then signs the Date header
    assert verify_request(environ, b"{}", HOME, now=NOW).service == "dynamodb"


def test_a_credential_scope_of_another_day_is_refused() -> None:
    environ = _signed()
    environ["HTTP_AUTHORIZATION"] = environ["HTTP_AUTHORIZATION"].replace("/20260501/",
                                                                          "/20260430/")
    assert "Date in Credential scope" in _refused(environ, b"{}").message


def test_an_x_amz_content_sha256_that_matches_the_body_is_fine() -> None:
    body = b'{"Limit": 3}'
    environ = _signed(body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    assert verify_request(environ, body, HOME, now=NOW).service == "dynamodb"


def _presigned(expires: int = 60, credentials: HomeCredentials = HOME) -> dict[str, Any]:
    request = AWSRequest(method="GET",
                         url=f"http://{HOST}/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(Credentials(credentials.access_key_id, credentials.secret_access_key),
                   "sts", "us-east-1", expires=expires).add_auth(request)
    return _environ(request, b"")


def test_presigned_requests_are_good_until_they_expire() -> None:
    environ = _presigned(expires=60)
    assert read_signature(environ).presigned
    assert verify_request(environ, b"", HOME, now=NOW).service == "sts"
    verify_request(environ, b"", HOME, now=NOW + datetime.timedelta(seconds=60))
    refusal = _refused(environ, b"", NOW + datetime.timedelta(seconds=61))
    assert refusal.query_code == "SignatureDoesNotMatch" and "expired" in refusal.message


def test_a_presigned_request_with_a_changed_parameter_is_refused() -> None:
    environ = _presigned()
    environ["RAW_URI"] = environ["RAW_URI"].replace("GetCallerIdentity", "GetSessionToken")
    environ["QUERY_STRING"] = environ["RAW_URI"].split("?", 1)[1]
    assert _refused(environ, b"").query_code == "SignatureDoesNotMatch"


def test_a_signature_with_another_homes_secret_is_refused() -> None:
    twin = HomeCredentials(HOME.access_key_id, "c" * 40)  # same key id, other secret
    assert _refused(_signed(credentials=twin), b"{}").json_code == "InvalidSignatureException"
    assert _refused(_presigned(credentials=twin), b"").query_code == "SignatureDoesNotMatch"
