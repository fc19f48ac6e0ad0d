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
from typing import Any

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


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically as a ``0600`` file, never through a symlink.

    The temporary file is created exclusively (``O_EXCL``, a random name) in the same folder,
    fsynced, then renamed over ``path``: a symlink planted at ``path`` is replaced, not
    followed.

    Example
    -------
    >>> import tempfile
    >>> write_private(Path(tempfile.mkdtemp()) / "note.txt", "hello")
    """
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
