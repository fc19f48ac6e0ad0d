"""Which sockets listen on a port, read through psutil (no ``/proc``, which macOS lacks)."""

from __future__ import annotations

import contextlib
import socket

import psutil


def listening_sockets(port: int) -> list[tuple[str, str]]:
    """(family, local address) of every TCP socket listening on ``port``, e.g. ("IPv4", ...).

    Empty where the system does not let a user list sockets (macOS without root).

    Example
    -------
    >>> with socket.socket() as server:
    ...     server.bind(("127.0.0.1", 0))
    ...     server.listen(1)
    ...     listening_sockets(server.getsockname()[1])
    [('IPv4', '127.0.0.1')]
    """
    families = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}
    found = []
    with contextlib.suppress(psutil.AccessDenied):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                found.append((families.get(conn.family, str(conn.family)), conn.laddr.ip))
    return sorted(found)
