"""Which code step 3 deploys: the lab's ``lambda/`` (the default) or the student's handler.

The choice lives in the home (``function_code.json``, one entry per function name, so a
prefix's function has its own), so every notebook and kernel of that home deploys the same
code: ``ensure_steps`` in 04 keeps the student's handler instead of quietly putting the
reference back. Only ``deploy_my_handler`` sets it, and ``deploy_reference_handler`` clears it.

Example
-------
>>> import tempfile
>>> from wildrydes_helpers.config import Config
>>> cfg = Config(home=Path(tempfile.mkdtemp()))
>>> chosen_source(cfg) is None, code_label(None)
(True, "lambda/index.py (the lab's function)")
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from ..config import Config
from ..statefile import private_dir, read_state, write_private, write_state

CHOICE_FILE = "function_code.json"
STUDENT_DIR = "my_function"


def student_dir(cfg: Config) -> Path:
    """Where the student's package is kept: ``<home>/my_function/<function name>``.

    Example
    -------
    >>> student_dir(Config(home=Path("/h"))).as_posix()
    '/h/my_function/WildRydesAggregator'
    """
    return cfg.home / STUDENT_DIR / cfg.function_name


def _choices(cfg: Config) -> dict[str, str]:
    state = read_state(cfg.home / CHOICE_FILE) or {}
    return {str(k): str(v) for k, v in state.items()}


def chosen_source(cfg: Config) -> Path | None:
    """The folder to zip for the function: the student's, or None for the lab's ``lambda/``.

    Example
    -------
    >>> import tempfile
    >>> chosen_source(Config(home=Path(tempfile.mkdtemp()))) is None
    True
    """
    folder = student_dir(cfg)
    if _choices(cfg).get(cfg.function_name) == "mine" and (folder / "index.py").is_file():
        return folder
    return None


def code_label(source: Path | None) -> str:
    """How a step result names the deployed code.

    Example
    -------
    >>> code_label(Path("/home/me/.wildrydes/my_function/WildRydesAggregator"))
    "your handler (from deploy_my_handler; deploy_reference_handler() puts the lab's back)"
    """
    if source is None:
        return "lambda/index.py (the lab's function)"
    return "your handler (from deploy_my_handler; deploy_reference_handler() puts the lab's back)"


def choose_mine(cfg: Config, files: Mapping[str, str]) -> Path:
    """Keep ``files`` as the student's package and make it step 3's code; return its folder."""
    folder = student_dir(cfg)
    if folder.exists():
        shutil.rmtree(folder)  # a file the new version no longer has must not be zipped
    private_dir(folder)
    for name, text in files.items():
        write_private(folder / name, text)
    write_state(cfg.home / CHOICE_FILE, {**_choices(cfg), cfg.function_name: "mine"})
    return folder


def choose_reference(cfg: Config) -> None:
    """Make the lab's ``lambda/`` step 3's code again (the student's folder stays)."""
    private_dir(cfg.home)
    write_state(cfg.home / CHOICE_FILE, {**_choices(cfg), cfg.function_name: "reference"})
