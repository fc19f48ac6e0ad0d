"""The local cloud's HTTP server: werkzeug's, with connections kept open between requests.

werkzeug's development server answers every request with ``Connection: close``, since
Python's http.server cannot tell where an unread request body ends and the next request
begins. So every boto3 call paid for a new TCP connection and a new server thread: about a
third of the time of a PutItem on this machine. ``LocalCloudRequestHandler`` keeps a
connection open (HTTP/1.1 keep-alive, as AWS's endpoints do) when it is safe:

- the request is HTTP/1.1 and did not ask to close;
- its body has one Content-Length (no Transfer-Encoding), and the application read all of
  it before answering; it can never read past it, so the next request's bytes are never
  taken for this one's body. Otherwise the answer says ``Connection: close`` and the
  connection ends, as with werkzeug.

A connection that sends nothing for ``KEEP_ALIVE_IDLE_S`` (between requests, or within
one) is closed. The answer's status line,
headers and first body bytes leave in one ``send``: with separate small sends, Nagle's
algorithm and the client's delayed ACK would hold each answer back by 40 ms on a kept
connection. Every request still goes through the whole application (router.py): nothing
here decides who may do what.

Example
-------
>>> from werkzeug.serving import make_server
>>> def app(environ, start_response):
...     start_response("200 OK", [("Content-Length", "2")])
...     return [b"{}"]
>>> server = make_server("127.0.0.1", 0, app, threaded=True,
...                      request_handler=LocalCloudRequestHandler)
>>> server.server_close()
"""

from __future__ import annotations

import logging
import selectors
import socket
from collections.abc import Iterable, Iterator
from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import WSGIRequestHandler

# How long a kept connection may wait for its next request (nginx's default is 75 s).
KEEP_ALIVE_IDLE_S = 60.0
_CONNECTION_DROPPED = (ConnectionError, socket.timeout)


class RequestBody:
    """A request body on a kept connection: reads stop at its Content-Length.

    Example
    -------
    >>> import io
    >>> body = RequestBody(io.BytesIO(b'{"a": 1}POST / HTTP/1.1'), 8)
    >>> body.read(), body.read(), body.left
    (b'{"a": 1}', b'', 0)
    """

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self.left = length

    def _allowed(self, size: int | None) -> int:
        return self.left if size is None or size < 0 else min(size, self.left)

    def read(self, size: int | None = -1) -> bytes:
        size = self._allowed(size)
        data = self._stream.read(size) if size else b""
        self.left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        size = self._allowed(size)
        data = self._stream.readline(size) if size else b""
        self.left -= len(data)
        return data

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def _declared_length(handler: WSGIRequestHandler) -> int | None:
    """The body's length when the request states it unambiguously (no body: 0), else None."""
    if handler.headers.get("Transfer-Encoding") is not None:
        return None
    lengths = handler.headers.get_all("Content-Length") or []
    if not lengths:
        return 0
    value = lengths[0].strip()
    # ASCII digits only: "²".isdigit() is true, and int() refuses it.
    if len(lengths) > 1 or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def _logs_requests() -> bool:
    # werkzeug formats a log line for every answer, even when its logger would drop it
    # (apply_patches sets it to ERROR). NOTSET is werkzeug's own default: it then logs.
    return logging.getLogger("werkzeug").level <= logging.INFO


class LocalCloudRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, keeping connections open (see the module docstring).

    Example
    -------
    >>> LocalCloudRequestHandler.protocol_version
    'HTTP/1.1'
    """

    protocol_version = "HTTP/1.1"
    # Answers go in one send; a chunked one goes in several, which must not wait for ACKs.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        # One inactivity limit for the connection's life, set once: a request, or the next
        # one, that sends nothing for that long ends its connection.
        self.timeout = KEEP_ALIVE_IDLE_S
        super().setup()

    def handle_one_request(self) -> None:
        # An idle connection ends quietly here, rather than as http.server's logged
        # "Request timed out" once the request line has begun.
        try:
            if not self.rfile.peek(1):
                self.close_connection = True
                return
        except OSError:  # timed out (KEEP_ALIVE_IDLE_S), or the client went away
            self.close_connection = True
            return
        super().handle_one_request()

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        length = _declared_length(self)
        body: RequestBody | None = None
        if length is not None:
            body = environ["wsgi.input"] = RequestBody(self.rfile, length)
        keep = body is not None and not self.close_connection \
            and self.request_version == "HTTP/1.1"
        answer = _Answer(self, environ, body if keep else None)
        try:
            answer.execute(self.server.app)
        except _CONNECTION_DROPPED as exc:
            self.close_connection = True
            self.connection_dropped(exc, environ)
        except Exception as exc:
            if self.server.passthrough_errors:
                raise
            self.close_connection = True
            try:
                if answer.status_sent is None:
                    answer.status_set = answer.headers_set = None
                    answer.execute(InternalServerError())
            except Exception:
                pass
            from werkzeug.debug.tbtools import DebugTraceback

            msg = DebugTraceback(exc).render_traceback_text()
            self.server.log("error", f"Error on request:\n{msg}")


class _Answer:
    """One request's answer: werkzeug's ``run_wsgi`` write logic, kept-connection aware."""

    def __init__(self, handler: LocalCloudRequestHandler, environ: dict[str, Any],
                 body: RequestBody | None) -> None:
        self.handler, self.environ, self.body = handler, environ, body
        self.status_set: str | None = None
        self.headers_set: list[tuple[str, str]] | None = None
        self.status_sent: str | None = None
        self.chunked = False

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Any:
        if exc_info:
            try:
                if self.status_sent is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.headers_set:
            raise AssertionError("Headers already set")
        self.status_set, self.headers_set = status, headers
        return self.write

    def _head(self) -> bytes:
        handler = self.handler
        assert self.status_set is not None and self.headers_set is not None, \
            "write() before start_response"
        code_text, _, message = self.status_set.partition(" ")
        code = int(code_text)
        if _logs_requests():
            handler.log_request(code)
        if handler.request_version == "HTTP/0.9":
            self.status_sent = self.status_set
            return b""
        lines = [f"{handler.protocol_version} {code} {message}\r\n",
                 f"Server: {handler.version_string()}\r\n",
                 f"Date: {handler.date_time_string()}\r\n"]
        keys = set()
        for key, value in self.headers_set:
            lines.append(f"{key}: {value}\r\n")
            keys.add(key.lower())
        if not ("content-length" in keys or self.environ["REQUEST_METHOD"] == "HEAD"
                or 100 <= code < 200 or code in (204, 304)):
            self.chunked = True
            lines.append("Transfer-Encoding: chunked\r\n")
        # Kept open only when this request's body is all read: its bytes are then never
        # taken for the next request's.
        if self.body is None or self.body.left or handler.close_connection:
            handler.close_connection = True
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        self.status_sent = self.status_set
        return head

    def write(self, data: bytes) -> None:
        assert isinstance(data, bytes), "applications must write bytes"
        head = self._head() if self.status_sent is None else b""
        if data and self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.handler.wfile.write(head + data)

    def execute(self, app: Any) -> None:
        result: Iterable[bytes] = app(self.environ, self.start_response)
        try:
            for data in result:
                self.write(data)
            if self.status_sent is None:
                self.write(b"")
            if self.chunked:
                self.handler.wfile.write(b"0\r\n\r\n")
        finally:
            if self.handler.close_connection:
                _drain(self.handler)
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _drain(handler: WSGIRequestHandler) -> None:
    """Read what the client still sends before the connection closes (werkzeug's way): it
    then sees the answer (a 413, say) rather than a reset connection."""
    selector = selectors.DefaultSelector()
    selector.register(handler.connection, selectors.EVENT_READ)
    total_size = total_reads = 0
    try:
        while selector.select(timeout=0.01):
            data = handler.rfile.read(10_000_000)
            total_size += len(data)
            total_reads += 1
            if not data or total_size >= 10_000_000_000 or total_reads > 1000:
                break
    finally:
        selector.close()
