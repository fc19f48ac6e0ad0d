"""Kept-open connections (local/http_server.py): each request on one passes every check, and
a body the local cloud did not read is never taken for a request.
"""

from __future__ import annotations

import socket
import uuid

from tests.kit.raw_http import forged_headers, host_of, signed_headers
from wildrydes_helpers.session import local_credentials

LIST_TABLES = {"X-Amz-Target": "DynamoDB_20120810.ListTables",
               "Content-Type": "application/x-amz-json-1.0"}


def _request(lab, body: bytes, headers: dict[str, str], host: str | None = None) -> bytes:
    lines = ["POST / HTTP/1.1", f"Host: {host or host_of(lab.endpoint)}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _signed(lab, body: bytes, headers: dict[str, str]) -> bytes:
    signed = signed_headers(lab.endpoint, "POST", "/", body, "dynamodb",
                            local_credentials(lab.config), lab.config.region, headers)
    return _request(lab, body, {k: v for k, v in signed.items() if k.lower() != "host"})


def _answers(lab, data: bytes, count: int, then: bool = False) -> list[bytes]:
    """The heads of the first ``count`` answers on one connection; with ``then``, b"closed"
    after them if the local cloud then closed the connection (else b"open")."""
    host, port = host_of(lab.endpoint).split(":")
    heads: list[bytes] = []
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        stream = sock.makefile("rb")
        for _ in range(count):
            status = stream.readline()
            if not status:
                break
            lines = [status]
            while (line := stream.readline()) not in (b"\r\n", b""):
                lines.append(line)
            head = b"".join(lines)
            length = next((int(v) for k, _, v in (x.decode().partition(":") for x in lines[1:])
                           if k.lower() == "content-length"), 0)
            stream.read(length)
            heads.append(head)
        if then:
            heads.append(b"closed" if stream.read(1) == b"" else b"open")
    return heads


def test_two_signed_requests_share_one_connection_and_a_forged_third_is_refused(lab):
    forged = forged_headers("dynamodb")
    forged.update(LIST_TABLES)
    heads = _answers(lab, _signed(lab, b"{}", LIST_TABLES) + _signed(lab, b"{}", LIST_TABLES)
                     + _request(lab, b"{}", forged), 3)
    assert [h.split(b"\r\n")[0] for h in heads[:3]] == [
        b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 403 FORBIDDEN"]
    assert b"Connection: close" not in heads[0] + heads[1]


def test_a_body_left_unread_is_never_taken_for_a_request(lab):
    table = f"smuggled-{uuid.uuid4().hex[:8]}"
    create = b'{"TableName": "%s", "BillingMode": "PAY_PER_REQUEST", ' \
             b'"AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}], ' \
             b'"KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}' % table.encode()
    inner = _signed(lab, create, {"X-Amz-Target": "DynamoDB_20120810.CreateTable",
                                  "Content-Type": "application/x-amz-json-1.0"})
    # Refused from its Host before its body is read: the body is a whole signed request.
    outer = _request(lab, inner, LIST_TABLES, host="attacker.example")
    heads = _answers(lab, outer, 1, then=True)
    assert heads[0].startswith(b"HTTP/1.1 403 ") and b"\r\nConnection: close\r\n" in heads[0]
    assert heads[1:] == [b"closed"]
    assert table not in lab.client("dynamodb").list_tables()["TableNames"]
