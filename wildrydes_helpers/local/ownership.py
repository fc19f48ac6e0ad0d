"""Proof that a local cloud answering on a port belongs to this home.

A port on 127.0.0.1 is shared by every user of the machine, and ``/_wildrydes/status``
answers anyone. So a home never takes a local cloud as its own because it answers there, or
because its boot id matches the state file (anyone can read a boot id from the status
route). It asks for a proof only the home's own local cloud can give:

1. the client sends a fresh random challenge in the ``X-Wildrydes-Challenge`` header;
2. the local cloud answers with ``X-Wildrydes-Proof``: HMAC-SHA256, keyed by the home's
   secret key (``credentials.json``, ``0600`` in a ``0700`` home), of the boot id, the
   server's pid (``X-Wildrydes-Pid``) and the challenge;
3. the client recomputes it with its own secret and compares in constant time.

Another user's local cloud, or any program squatting on the port, does not know the secret;
a proof seen once is useless later, since every challenge is new.

Example
-------
>>> from wildrydes_helpers.local.credentials import HomeCredentials
>>> mine = HomeCredentials("LOCALKEY", "secret")
>>> challenge = new_challenge()
>>> proof = prove(mine, "boot1", 42, challenge)
>>> verify(mine, "boot1", 42, challenge, proof)
True
>>> verify(HomeCredentials("LOCALKEY", "other"), "boot1", 42, challenge, proof)
False
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from .credentials import HomeCredentials

CHALLENGE_HEADER = "X-Wildrydes-Challenge"
PROOF_HEADER = "X-Wildrydes-Proof"
PID_HEADER = "X-Wildrydes-Pid"
STATUS_PATH = "/_wildrydes/status"
_CHALLENGE = re.compile(r"^[0-9a-f]{32,128}$")
_CONTEXT = b"wildrydes-local-cloud-status-proof-v1"


def new_challenge() -> str:
    """A fresh random challenge (32 hex digits).

    Example
    -------
    >>> len(new_challenge()), new_challenge() != new_challenge()
    (32, True)
    """
    return secrets.token_hex(16)


def prove(credentials: HomeCredentials, boot_id: str, pid: int, challenge: str) -> str:
    """The proof a home's local cloud gives for ``challenge`` (hex HMAC-SHA256).

    Example
    -------
    >>> len(prove(HomeCredentials("K", "s"), "b", 1, "c" * 32))
    64
    """
    message = b"\n".join([_CONTEXT, boot_id.encode(), str(pid).encode(), challenge.encode()])
    return hmac.new(credentials.secret_access_key.encode(), message, hashlib.sha256).hexdigest()


def verify(credentials: HomeCredentials, boot_id: str, pid: int, challenge: str,
           proof: str) -> bool:
    """True when ``proof`` was made with this home's secret for this boot id, pid, challenge.

    Example
    -------
    >>> verify(HomeCredentials("K", "s"), "b", 1, "c" * 32, "00")
    False
    """
    expected = prove(credentials, boot_id, pid, challenge)
    return hmac.compare_digest(expected.encode(), proof.encode())


StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class StatusProof:
    """WSGI wrapper: adds the proof headers to a successful, challenged status answer.

    It changes nothing else: the wrapped application still decides what the status route
    answers (and whom it refuses).

    Example
    -------
    >>> def app(environ, start_response):
    ...     start_response("200 OK", [("Content-Type", "application/json")])
    ...     return [b"{}"]
    >>> seen = []
    >>> wrapped = StatusProof(app, HomeCredentials("K", "s"), lambda: "boot1")
    >>> _ = wrapped({"PATH_INFO": STATUS_PATH, "REQUEST_METHOD": "GET",
    ...              "HTTP_X_WILDRYDES_CHALLENGE": "a" * 32},
    ...             lambda status, headers, *exc: seen.extend(headers))
    >>> sorted(name for name, _ in seen)
    ['Content-Type', 'X-Wildrydes-Pid', 'X-Wildrydes-Proof']
    """

    def __init__(self, app: WsgiApp, credentials: HomeCredentials,
                 boot_id: Callable[[], str]) -> None:
        self.app, self.credentials, self.boot_id = app, credentials, boot_id

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        challenge = environ.get("HTTP_X_WILDRYDES_CHALLENGE", "")
        if environ.get("PATH_INFO") != STATUS_PATH or environ.get("REQUEST_METHOD") != "GET" \
                or not _CHALLENGE.match(challenge):
            return self.app(environ, start_response)

        def with_proof(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            if status.startswith("200"):
                pid = os.getpid()
                headers = [*headers, (PID_HEADER, str(pid)),
                           (PROOF_HEADER, prove(self.credentials, self.boot_id(), pid,
                                                challenge))]
            return start_response(status, headers, *exc_info)

        return self.app(environ, with_proof)
