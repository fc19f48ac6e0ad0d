"""Issue 11, part 1: the local cloud answers only requests signed with its home's credentials.

Each probe of the issue is here as it was run against the local cloud before the change
(``Signature=00`` CreateRole, CreateFunction, Invoke): all three deployed and ran code then.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlencode

import boto3
import botocore.auth
import botocore.config
import botocore.exceptions
import pytest

from tests.kit.raw_http import (
    forged_headers,
    presigned_target,
    send,
    send_signed,
    signed_headers,
)
from wildrydes_helpers.iam import TRUST_POLICY
from wildrydes_helpers.local.credentials import HomeCredentials
from wildrydes_helpers.session import local_credentials

DDB_LIST = {"Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables"}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _zip_b64(source: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", source)
    return base64.b64encode(buf.getvalue()).decode()


def _client(lab: Any, service: str, key: str, secret: str) -> Any:
    return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                         region_name=lab.config.region).client(
        service, endpoint_url=lab.endpoint,
        config=botocore.config.Config(retries={"max_attempts": 1}))


@pytest.mark.parametrize("host", [None, "attacker.example"])
def test_forged_signature_cannot_create_a_role_deploy_or_invoke(lab, host):
    """The issue's first probe: with Signature=00, none of the three calls gets through."""
    name = f"forged-{'rebind' if host else 'local'}"
    create_role = urlencode({"Action": "CreateRole", "Version": "2010-05-08", "RoleName": name,
                             "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY)}).encode()
    answers = [send(lab.endpoint, "POST", "/", create_role,
                    {**forged_headers("iam", host), **FORM})]
    function = {"FunctionName": name, "Runtime": "python3.12", "Handler": "index.handler",
                "Role": f"arn:aws:iam::123456789012:role/{name}",
                "Code": {"ZipFile": _zip_b64("def handler(e, c):\n    return 'ran'\n")}}
    json_headers = {**forged_headers("lambda", host), "Content-Type": "application/json"}
    answers.append(send(lab.endpoint, "POST", "/2015-03-31/functions",
                        json.dumps(function).encode(), json_headers))
    answers.append(send(lab.endpoint, "POST", f"/2015-03-31/functions/{name}/invocations",
                        b"{}", json_headers))
    expected = (["AccessDenied", "AccessDeniedException", "AccessDeniedException"] if host
                else ["InvalidClientTokenId", "UnrecognizedClientException",
                      "UnrecognizedClientException"])
    assert [(a.status, a.code) for a in answers] == [(403, code) for code in expected]
    # Nothing was made.
    roles = [r["RoleName"] for r in lab.client("iam").list_roles()["Roles"]]
    functions = [f["FunctionName"] for f in lab.client("lambda").list_functions()["Functions"]]
    assert name not in roles and name not in functions


def test_unsigned_requests_are_refused_in_each_services_shape(lab):
    invoke = send(lab.endpoint, "POST", "/2015-03-31/functions/any/invocations", b"{}",
                  {"Content-Type": "application/json"})
    ddb = send(lab.endpoint, "POST", "/", b"{}", DDB_LIST)
    iam = send(lab.endpoint, "POST", "/", b"Action=ListRoles&Version=2010-05-08", FORM)
    assert (invoke.status, invoke.code) == (403, "MissingAuthenticationTokenException")
    assert (ddb.status, ddb.code) == (403, "MissingAuthenticationTokenException")
    assert (iam.status, iam.code) == (403, "MissingAuthenticationToken")
    assert iam.body.startswith(b"<ErrorResponse>")
    assert "wildrydes local env" in json.loads(ddb.body)["message"]  # says what to do


def test_another_key_is_refused_as_unrecognized(lab):
    stranger = HomeCredentials("LOCAL" + "X" * 15, "s" * 40)
    for service, call, code in (("dynamodb", "list_tables", "UnrecognizedClientException"),
                                ("kinesis", "list_streams", "UnrecognizedClientException"),
                                ("lambda", "list_functions", "UnrecognizedClientException"),
                                ("sts", "get_caller_identity", "InvalidClientTokenId"),
                                ("iam", "list_roles", "InvalidClientTokenId")):
        client = _client(lab, service, stranger.access_key_id, stranger.secret_access_key)
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            getattr(client, call)()
        error = refused.value.response
        assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
            403, code), service


def test_the_homes_key_with_a_wrong_secret_is_refused_as_a_bad_signature(lab):
    home = local_credentials(lab.config)
    for service, call, code in (("dynamodb", "list_tables", "InvalidSignatureException"),
                                ("logs", "describe_log_groups", "InvalidSignatureException"),
                                ("sqs", "list_queues", "InvalidSignatureException"),
                                ("sts", "get_caller_identity", "SignatureDoesNotMatch"),
                                ("sns", "list_topics", "SignatureDoesNotMatch")):
        client = _client(lab, service, home.access_key_id, "w" * 40)
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            getattr(client, call)()
        error = refused.value.response
        assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
            403, code), service


def test_the_homes_credentials_are_accepted_by_every_served_service(lab):
    home = local_credentials(lab.config)
    for service, call in (("dynamodb", "list_tables"), ("kinesis", "list_streams"),
                          ("lambda", "list_functions"), ("logs", "describe_log_groups"),
                          ("sqs", "list_queues"), ("sns", "list_topics"),
                          ("sts", "get_caller_identity"), ("iam", "list_roles")):
        client = _client(lab, service, home.access_key_id, home.secret_access_key)
        assert getattr(client, call)()["ResponseMetadata"]["HTTPStatusCode"] == 200, service


def test_a_body_changed_after_signing_is_refused(lab):
    home = local_credentials(lab.config)
    headers = signed_headers(lab.endpoint, "POST", "/", b"{}", "dynamodb", home,
                             lab.config.region, DDB_LIST)
    answer = send(lab.endpoint, "POST", "/", b'{"Limit": 1}', headers)
    assert (answer.status, answer.code) == (403, "InvalidSignatureException")


def test_a_signature_replayed_on_another_path_is_refused(lab):
    home = local_credentials(lab.config)
    headers = signed_headers(lab.endpoint, "GET", "/2015-03-31/functions/", b"", "lambda",
                             home, lab.config.region)
    assert send(lab.endpoint, "GET", "/2015-03-31/functions/", b"", headers).status == 200
    answer = send(lab.endpoint, "GET", "/2015-03-31/event-source-mappings/", b"", headers)
    assert (answer.status, answer.code) == (403, "InvalidSignatureException")


@pytest.mark.parametrize("minutes, needle", [(-20, "Signature expired"),
                                             (20, "Signature not yet current")])
def test_a_signature_from_another_time_is_refused(lab, monkeypatch, minutes, needle):
    home = local_credentials(lab.config)
    then = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)
    # botocore's signer takes its time from this function: sign as if at ``then``.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: then.replace(tzinfo=None))
    answer = send_signed(lab.endpoint, "POST", "/", b"{}", "dynamodb", home,
                         lab.config.region, DDB_LIST)
    assert (answer.status, answer.code) == (403, "InvalidSignatureException")
    assert needle in json.loads(answer.body)["message"]


def test_presigned_query_string_requests_are_verified_too(lab):
    home = local_credentials(lab.config)
    target = presigned_target(lab.endpoint, "/?Action=GetCallerIdentity&Version=2011-06-15",
                              "sts", home, lab.config.region)
    good = send(lab.endpoint, "GET", target)
    assert good.status == 200 and b"<GetCallerIdentityResult>" in good.body
    forged = send(lab.endpoint, "GET", target[:-2] + ("00" if not target.endswith("00")
                                                      else "11"))
    assert (forged.status, forged.code) == (403, "SignatureDoesNotMatch")
    stranger = presigned_target(lab.endpoint, "/?Action=GetCallerIdentity&Version=2011-06-15",
                                "sts", HomeCredentials("LOCAL" + "Y" * 15, "z" * 40))
    answer = send(lab.endpoint, "GET", stranger)
    assert (answer.status, answer.code) == (403, "InvalidClientTokenId")


def test_a_malformed_authorization_header_is_a_clear_400(lab):
    for header in ("AWS AKID:abc", "AWS4-HMAC-SHA256 Credential=AKID/x, Signature=00"):
        answer = send(lab.endpoint, "POST", "/", b"{}",
                      {**DDB_LIST, "Authorization": header, "X-Amz-Date": "20260101T000000Z"})
        assert (answer.status, answer.code) == (400, "IncompleteSignatureException"), header


def test_the_status_route_answers_unsigned_but_checks_a_signature_it_is_given(lab):
    assert send(lab.endpoint, "GET", "/_wildrydes/status").status == 200
    stranger = HomeCredentials("LOCAL" + "Z" * 15, "q" * 40)
    answer = send_signed(lab.endpoint, "GET", "/_wildrydes/status", b"", "wildrydes",
                         stranger)
    assert (answer.status, answer.code) == (403, "UnrecognizedClientException")
    home = local_credentials(lab.config)
    mine = send_signed(lab.endpoint, "GET", "/_wildrydes/status", b"", "wildrydes", home)
    assert mine.status == 200
    assert json.loads(mine.body)["endpoint"] == lab.endpoint
