"""Web pages cannot use the local cloud: the Host and Origin checks that stop them.

A web page in the student's browser can send requests to 127.0.0.1 in two ways: directly
(its Origin is then its own site), or by DNS rebinding (its own host name, resolved to
127.0.0.1: the Host header is then that name). The local cloud answers only requests whose
Host is its own address and whose Origin, if any, is too; it never sends CORS headers, and a
CORS preflight (``OPTIONS``) is refused, so a browser never lets a page read an answer.

Example
-------
>>> refusal_for({"HTTP_HOST": "127.0.0.1:4599", "REQUEST_METHOD": "POST"}, 4599) is None
True
>>> refusal_for({"HTTP_HOST": "attacker.example", "REQUEST_METHOD": "POST"}, 4599).status
403
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .aws_errors import Refusal

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(port: int) -> frozenset[str]:
    """The Host header values the local cloud answers: its loopback names with its port.

    Example
    -------
    >>> sorted(allowed_hosts(4599))
    ['127.0.0.1:4599', '[::1]:4599', 'localhost:4599']
    """
    return frozenset(f"{name}:{port}" for name in _LOOPBACK_NAMES)


def _denied(message: str) -> Refusal:
    return Refusal(403, "AccessDeniedException", "AccessDenied", message)


def refusal_for(environ: Mapping[str, Any], port: int) -> Refusal | None:
    """Why a request must be refused as coming from a web page, or None when it may go on.

    Example
    -------
    >>> refusal_for({"HTTP_HOST": "localhost:4599", "HTTP_ORIGIN": "http://attacker.example",
    ...              "REQUEST_METHOD": "POST"}, 4599).message[:36]
    'Requests from web pages are refused:'
    """
    hosts = allowed_hosts(port)
    host = str(environ.get("HTTP_HOST", "")).strip().lower()
    if host not in hosts:
        return _denied(f"The local cloud answers only requests to http://127.0.0.1:{port} "
                       f"(or localhost:{port}); this one was sent to Host {host!r}. Use the "
                       "endpoint `wildrydes local env` prints.")
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and str(origin).strip().lower() not in {f"http://{h}" for h in hosts}:
        return _denied(f"Requests from web pages are refused: this one came from {origin!r}. "
                       "Call the local cloud from Python, the AWS CLI or the lab's helpers.")
    if environ.get("REQUEST_METHOD") == "OPTIONS":
        return _denied("The local cloud answers no CORS preflight: web pages may not call it.")
    return None
