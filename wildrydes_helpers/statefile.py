"""Small JSON state files: the local cloud's and the producer's pid files.

Both are shared by processes that start one another, so writes are atomic: a reader never
sees half a file.

Example
-------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
>>> write_state(path, {"pid": 42})
>>> read_state(path)
{'pid': 42}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


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


def write_state(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically (through a temporary file and rename).

    Example
    -------
    >>> import tempfile
    >>> write_state(Path(tempfile.mkdtemp()) / "s.json", {"port": 4599})
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)

