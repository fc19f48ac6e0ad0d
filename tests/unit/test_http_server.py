"""The local cloud's HTTP server keeps a connection open only when that is safe (http_server.py).

Each test runs the handler in a werkzeug server of its own, in this process, with a toy WSGI
application that records what it was asked.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from wildrydes_helpers.local import http_server
from wildrydes_helpers.local.http_server import LocalCloudRequestHandler

App = Callable[..., Any]


def _recording_app(seen: list[dict[str, Any]], read_body: bool = True,
                   whole: bool = False) -> App:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        # As the local cloud's router reads a body: as long as its Content-Length says.
        length = int(environ.get("CONTENT_LENGTH") or 0) if read_body else 0
        stream = environ["wsgi.input"]
        body = stream.read() if whole else stream.read(length) if length else b""
        seen.append({"path": environ["PATH_INFO"], "port": environ["REMOTE_PORT"],
                     "body": body})
        answer = b'{"ok": true}'
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(answer)))])
        return [answer]
    return app


@contextlib.contextmanager
def _server(app: App, handler: type = LocalCloudRequestHandler) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(30)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _post(path: str, body: bytes, *extra: str, version: str = "HTTP/1.1") -> bytes:
    head = [f"POST {path} {version}", "Host: 127.0.0.1", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_two_requests_share_one_connection() -> None:
    seen: list[dict[str, Any]] = []
    with _server(_recording_app(seen)) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for body in (b'{"n": 1}', b'{"n": 2}'):
                conn.request("POST", "/", body)
                response = conn.getresponse()
                assert (response.status, response.read()) == (200, b'{"ok": true}')
                assert response.getheader("Connection") is None
        finally:
            conn.close()
    assert [s["body"] for s in seen] == [b'{"n": 1}', b'{"n": 2}']
    assert seen[0]["port"] == seen[1]["port"], "the second request came on a new connection"


def test_a_whole_read_stops_at_the_body_and_leaves_the_next_request_alone() -> None:
    seen: list[dict[str, Any]] = []
    with _server(_recording_app(seen, whole=True)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        # Both at once: a read() without a size must not swallow the second request.
        sock.sendall(_post("/first", b'{"a": 1}') + _post("/second", b"", "Connection: close"))
        received = _until_closed(sock)
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert [(s["path"], s["body"]) for s in seen] == [("/first", b'{"a": 1}'), ("/second", b"")]


def test_an_unread_body_closes_the_connection_and_is_never_taken_for_a_request() -> None:
    seen: list[dict[str, Any]] = []
    smuggled = _post("/smuggled", b"")
    with _server(_recording_app(seen, read_body=False)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_post("/", smuggled))
        received = _until_closed(sock)
    assert received.count(b"HTTP/1.1 ") == 1
    assert b"\r\nConnection: close\r\n" in received
    assert [s["path"] for s in seen] == ["/"]


@pytest.mark.parametrize("request_bytes", [
    _post("/", b"{}", "Connection: close"),
    _post("/", b"{}", version="HTTP/1.0"),
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    _post("/", b"{}", "Content-Length: 2"),  # a second Content-Length: which one is right?
    _post("/", b"{}").replace(b"Content-Length: 2", b"Content-Length: +2"),
    _post("/", b"{}").replace(b"Content-Length: 2", b"Content-Length: \xb2"),  # a "²"
], ids=["asked", "http-1.0", "chunked", "two-lengths", "signed-length", "superscript-length"])
def test_a_connection_closes_after_an_answer_when_keeping_it_is_not_safe(request_bytes) -> None:
    seen: list[dict[str, Any]] = []
    with _server(_recording_app(seen)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request_bytes + _post("/never", b""))
        received = _until_closed(sock)
    assert received.startswith(b"HTTP/1.1 ") and received.count(b"HTTP/1.1 ") == 1
    assert b"\r\nConnection: close\r\n" in received
    assert "/never" not in [s["path"] for s in seen]


def test_an_idle_connection_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_server, "KEEP_ALIVE_IDLE_S", 0.05)
    seen: list[dict[str, Any]] = []
    with _server(_recording_app(seen)) as port, \
            socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_post("/", b"{}"))
        received = _until_closed(sock)  # returns only once the server has closed
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" not in received


class _CountingHandler(LocalCloudRequestHandler):
    writes: list[bytes] = []

    def setup(self) -> None:
        super().setup()
        real = self.wfile

        class Recorder:
            def write(self, data: bytes) -> int:
                _CountingHandler.writes.append(bytes(data))
                return real.write(data)

            def flush(self) -> None:
                real.flush()

        self.wfile = Recorder()


def test_an_answer_leaves_in_one_write() -> None:
    # Separate small writes on a kept connection wait for the client's delayed ACK (40 ms).
    _CountingHandler.writes = []
    seen: list[dict[str, Any]] = []
    with _server(_recording_app(seen), _CountingHandler) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", "/", b"{}")
            assert conn.getresponse().read() == b'{"ok": true}'
        finally:
            conn.close()
    assert len(_CountingHandler.writes) == 1
    head, _, body = _CountingHandler.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\nServer: Werkzeug/") and body == b'{"ok": true}'


def test_an_application_error_is_a_500_and_closes_the_connection() -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        raise RuntimeError("boom")

    with _server(broken) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_post("/", b"{}") + _post("/", b"{}"))
        received = _until_closed(sock)
    assert received.startswith(b"HTTP/1.1 500 INTERNAL SERVER ERROR\r\n")
    assert received.count(b"HTTP/1.1 ") == 1
    assert b"\r\nConnection: close\r\n" in received


def test_a_response_without_length_is_chunked_on_a_kept_connection() -> None:
    def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one,"
        yield b"two"

    with _server(streaming) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(2):
                conn.request("POST", "/", b"")
                response = conn.getresponse()
                assert response.getheader("Transfer-Encoding") == "chunked"
                assert response.read() == b"one,two"
        finally:
            conn.close()
