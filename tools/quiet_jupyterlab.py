"""Keep JupyterLab quiet for students: no news pop-up, no update check.

JupyterLab 4 asks on first start whether to fetch Jupyter's news, and checks for new versions
online. ``make lab`` runs this once after installing, writing the venv's
``share/jupyter/lab/settings/overrides.json`` (the default settings JupyterLab reads for every
user of that environment) with the ``@jupyterlab/apputils-extension:notification`` settings
``fetchNews: "false"`` and ``checkForUpdates: false``. Other overrides in the file are kept.

Usage: .venv/bin/python tools/quiet_jupyterlab.py [PREFIX]   (default: this Python's sys.prefix)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

NOTIFICATION = "@jupyterlab/apputils-extension:notification"
QUIET = {"fetchNews": "false", "checkForUpdates": False}


def overrides_path(prefix: Path) -> Path:
    """Where JupyterLab of the environment at ``prefix`` reads its overrides.

    Example
    -------
    >>> overrides_path(Path("/v")).as_posix()
    '/v/share/jupyter/lab/settings/overrides.json'
    """
    return prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def quiet(overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` with the notification settings that silence news and update checks.

    Example
    -------
    >>> quiet({"x": {"a": 1}, NOTIFICATION: {"doNotDisturbMode": True}})[NOTIFICATION]
    {'doNotDisturbMode': True, 'fetchNews': 'false', 'checkForUpdates': False}
    """
    out = dict(overrides)
    out[NOTIFICATION] = {**out.get(NOTIFICATION, {}), **QUIET}
    return out


def write_quiet(prefix: Path) -> Path:
    """Merge the quiet settings into the environment's overrides.json; return its path."""
    path = overrides_path(prefix)
    current: dict[str, Any] = {}
    if path.exists():
        try:
            current = json.loads(path.read_text())
        except ValueError:
            current = {}  # a broken file would make JupyterLab ignore it anyway
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(quiet(current), indent=2) + "\n")
    return path


if __name__ == "__main__":
    written = write_quiet(Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix))
    print(f"JupyterLab quiet (no news pop-up, no update check): {written}")
