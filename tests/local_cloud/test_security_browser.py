"""Issue 11, part 3: web pages in the student's browser cannot use the local cloud.

Probes as a page would send them: DNS rebinding (a foreign Host), a CORS preflight from
another origin, and the "simple" text/plain POSTs a page may send without asking first
(before the change: fault injection switched on, ``/moto-api/reset`` wiped everything).
"""

from __future__ import annotations

import io
import json

import pytest

from tests.kit.raw_http import host_of, send, send_signed, signed_headers
from wildrydes_helpers.local.moto_backends import MotoBackends
from wildrydes_helpers.session import local_credentials

PAGE = "http://attacker.example"
PREFLIGHT = {"Origin": PAGE, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type,x-amz-target"}
DDB_LIST = {"Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables"}


def _port(lab) -> int:
    return int(lab.endpoint.rsplit(":", 1)[1])


def _faults(lab) -> dict:
    answer = send_signed(lab.endpoint, "GET", "/_wildrydes/faults", b"", "wildrydes",
                         local_credentials(lab.config))
    assert answer.status == 200, answer
    return json.loads(answer.body)


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:{port}", True), ("localhost:{port}", True), ("[::1]:{port}", True),
    ("LOCALHOST:{port}", True), ("attacker.example", False), ("attacker.example:{port}", False),
    ("127.0.0.1", False), ("127.0.0.1:1", False), ("", False),
])
def test_only_the_local_clouds_own_host_names_are_answered(lab, host, allowed):
    headers = {"Host": host.format(port=_port(lab))}
    status = send(lab.endpoint, "GET", "/_wildrydes/status", b"", headers)
    home = local_credentials(lab.config)
    signed = send_signed(lab.endpoint, "POST", "/", b"{}", "dynamodb", home, lab.config.region,
                         DDB_LIST)
    assert signed.status == 200  # the same request with the right Host
    if allowed:
        assert status.status == 200
    else:
        assert (status.status, status.code) == (403, "AccessDeniedException")


def test_a_signed_request_rebound_to_another_host_name_is_refused(lab):
    home = local_credentials(lab.config)
    rebound = lab.endpoint.replace("127.0.0.1", "attacker.example")
    headers = signed_headers(rebound, "POST", "/", b"{}", "dynamodb", home, lab.config.region,
                             DDB_LIST)
    # Sent to 127.0.0.1, as a page's browser does after rebinding its name to it.
    answer = send(lab.endpoint, "POST", "/", b"{}", {**headers, "Host": host_of(rebound)})
    assert (answer.status, answer.code) == (403, "AccessDeniedException")


def test_cors_preflight_from_another_origin_is_refused_without_cors_headers(lab):
    for path in ("/", "/2015-03-31/functions/f/invocations", "/_wildrydes/faults"):
        answer = send(lab.endpoint, "OPTIONS", path, b"", PREFLIGHT)
        assert answer.status == 403, path
        assert answer.cors_headers() == {}, path


def test_a_request_from_another_origin_is_refused_even_when_signed(lab):
    home = local_credentials(lab.config)
    answer = send_signed(lab.endpoint, "POST", "/", b"{}", "dynamodb", home, lab.config.region,
                         {**DDB_LIST, "Origin": PAGE})
    assert (answer.status, answer.code) == (403, "AccessDeniedException")
    assert answer.cors_headers() == {}
    null_origin = send_signed(lab.endpoint, "POST", "/", b"{}", "dynamodb", home,
                              lab.config.region, {**DDB_LIST, "Origin": "null"})
    assert null_origin.status == 403


@pytest.mark.parametrize("method", ["OPTIONS", "POST"])  # through moto's Flask app, and not
def test_motos_own_cors_is_off(method):
    """moto's server would answer any Origin with CORS headers; the local cloud's does not."""
    backends = MotoBackends()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/", "HTTP_HOST": "127.0.0.1:1",
               "HTTP_ORIGIN": PAGE, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "1", "wsgi.url_scheme": "http",
               "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=K/20260101/us-east-1/"
                                     "dynamodb/aws4_request, SignedHeaders=host, Signature=0",
               "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables"}
    environ["wsgi.input"] = io.BytesIO(b"{}")
    environ["CONTENT_LENGTH"] = "2"
    status, headers, _ = backends.handle_request(environ, "dynamodb")
    assert not [k for k, _ in headers if k.lower().startswith("access-control-")]
    assert status.startswith("200"), status


@pytest.mark.parametrize("origin", [PAGE, None])
def test_a_text_plain_post_cannot_switch_faults_on(lab, origin):
    headers = {"Content-Type": "text/plain"} | ({"Origin": origin} if origin else {})
    answer = send(lab.endpoint, "POST", "/_wildrydes/faults", b'{"invoke_error_rate": 1}',
                  headers)
    assert answer.status == 403
    assert answer.code == ("AccessDeniedException" if origin
                           else "MissingAuthenticationTokenException")
    assert _faults(lab)["invoke_error_rate"] == 0.0


def test_the_control_routes_take_json_only_even_signed(lab):
    home = local_credentials(lab.config)
    answer = send_signed(lab.endpoint, "PUT", "/_wildrydes/faults", b'{"invoke_error_rate": 1}',
                         "wildrydes", home, headers={"Content-Type": "text/plain"})
    assert (answer.status, answer.code) == (415, "UnsupportedMediaTypeException")
    assert _faults(lab)["invoke_error_rate"] == 0.0
    ok = send_signed(lab.endpoint, "PUT", "/_wildrydes/faults", b"{}", "wildrydes", home,
                     headers={"Content-Type": "application/json"})
    assert ok.status == 200


@pytest.mark.parametrize("method, path", [
    ("POST", "/moto-api/reset"), ("GET", "/moto-api/"), ("GET", "/moto-api/data.json"),
    ("POST", "/moto-api/recorder/replay-recording"),
    ("GET", "/moto-api/recorder/download-recording"),
])
def test_motos_own_api_does_not_exist(lab, method, path):
    table = lab.client("dynamodb").create_table(
        TableName=f"survives-{path.strip('/').replace('/', '-')}-{method}",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
    )["TableDescription"]["TableName"]
    home = local_credentials(lab.config)
    for answer in (send(lab.endpoint, method, path, b"", {"Content-Type": "text/plain"}),
                   send_signed(lab.endpoint, method, path, b"", "dynamodb", home)):
        assert answer.status == 404, answer
    assert table in lab.client("dynamodb").list_tables()["TableNames"]  # nothing was reset
    lab.client("dynamodb").delete_table(TableName=table)
