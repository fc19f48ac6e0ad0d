"""Small private files of a home: the local cloud's and the producer's state, its credentials.

They are shared by processes that start one another, so writes are atomic: a reader never
sees half a file. They hold what only the home's owner may read, so the home is ``0700`` and
every file ``0600``; a write never follows a symlink planted where its temporary file goes.

Example
-------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
>>> write_state(path, {"pid": 42})
>>> read_state(path)
{'pid': 42}
>>> oct(path.stat().st_mode & 0o777)
'0o600'
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

HOME_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it ``0700``; return it.

    Example
    -------
    >>> import tempfile
    >>> home = private_dir(Path(tempfile.mkdtemp()) / "home")
    >>> oct(home.stat().st_mode & 0o777)
    '0o700'
    """
    path.mkdir(parents=True, exist_ok=True, mode=HOME_MODE)
    with contextlib.suppress(OSError):  # not ours to change (a shared folder): leave it
        if path.stat().st_mode & 0o777 != HOME_MODE:
            os.chmod(path, HOME_MODE)
    return path


def read_state(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if it is missing, unreadable or not an object.

    Example
    -------
    >>> read_state(Path("/nonexistent/state.json")) is None
    True
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_private(path: Path, text: str, private_parent: bool = True) -> None:
    """Write ``text`` to ``path`` atomically as a ``0600`` file, never through a symlink.

    The temporary file is created exclusively (``O_EXCL``, a random name) in the same folder,
    fsynced, then renamed over ``path``: a symlink planted at ``path`` is replaced, not
    followed. The folder is made ``0700``; with ``private_parent=False`` a folder that exists
    already (one the student named, such as a ledger's given with ``--ledger``) is left as it
    is, and only a missing one is made, ``0700``.

    Example
    -------
    >>> import tempfile
    >>> write_private(Path(tempfile.mkdtemp()) / "note.txt", "hello")
    """
    if private_parent or not path.parent.is_dir():
        private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_state(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically and privately (see ``write_private``).

    Example
    -------
    >>> import tempfile
    >>> write_state(Path(tempfile.mkdtemp()) / "s.json", {"port": 4599})
    """
    write_private(path, json.dumps(data))


def open_private_append(path: Path) -> BinaryIO:
    """Open ``path`` for appending as a ``0600`` file (a log), never through a symlink.

    A file that exists with looser permissions (an older lab's log) is made ``0600``. A
    symlink at ``path`` is refused (``OSError``) where the platform can tell (``O_NOFOLLOW``).

    Example
    -------
    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "x.log"
    >>> with open_private_append(log) as handle:
    ...     _ = handle.write(b"started")
    >>> oct(log.stat().st_mode & 0o777) if os.name == "posix" else "0o600"
    '0o600'
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if os.name == "posix" and os.fstat(fd).st_mode & 0o777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


def int_field(state: dict[str, Any], key: str, low: int = 1,
              high: int | None = None) -> int | None:
    """``state[key]`` if it is a whole number in ``low..high``, else None (a stale state).

    A state file is only ever written by the lab, so a value of the wrong type (``"abc"``,
    ``true``, ``1.5``) means it was damaged or not ours: it reads as stale, never as a crash.

    Example
    -------
    >>> int_field({"pid": 42}, "pid"), int_field({"pid": "abc"}, "pid")
    (42, None)
    >>> int_field({"pid": True}, "pid"), int_field({"port": 70000}, "port", 1, 65535)
    (None, None)
    """
    value = state.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if value < low or (high is not None and value > high):
        return None
    return value


def str_field(state: dict[str, Any], key: str) -> str | None:
    """``state[key]`` if it is a non-empty string, else None.

    Example
    -------
    >>> str_field({"boot_id": "b1"}, "boot_id"), str_field({"boot_id": 7}, "boot_id")
    ('b1', None)
    """
    value = state.get(key)
    return value if isinstance(value, str) and value else None
