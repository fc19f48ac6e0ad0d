"""TCP ports on 127.0.0.1: find a free one, see whether one is taken.

Example
-------
>>> port = free_port()
>>> port_is_open(port)
False
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Example
    -------
    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port.

    Example
    -------
    >>> port_is_open(free_port())
    False
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((LOOPBACK, port)) == 0
