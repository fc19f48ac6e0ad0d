"""The student's handler as a deployment package: ``index.py`` plus ``lab_tools.py``.

``index.py`` is the handler's own source (from the notebook cell) under a fixed header of
imports; ``lab_tools.py`` is the exercise's helpers, unchanged. ``load_package`` runs that
exact text in a fresh namespace, so the checker tests what Lambda will run, not the cell.

Example
-------
>>> def handler(event, context):
...     return {"state": event.get("state") or {}}
>>> files = package_files(handler)
>>> sorted(files), "def handler(event, context):" in files["index.py"]
(['index.py', 'lab_tools.py'], True)
"""

from __future__ import annotations

import inspect
import sys
import textwrap
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import WildRydesError
from . import lab_tools

HEADER = '''"""Your handler from 03_create_function, packaged by deploy_my_handler()."""

import json
import os

import boto3

from lab_tools import log, log_final, read_batch, read_record, whole_metres, write_window


'''


def handler_source(handler: Callable[..., Any]) -> str:
    """The source text of ``handler``, as written in its cell or file.

    Example
    -------
    >>> handler_source(handler_source).splitlines()[0]
    'def handler_source(handler: Callable[..., Any]) -> str:'
    """
    try:
        source = inspect.getsource(handler)
    except (OSError, TypeError):
        raise WildRydesError(
            "Python cannot find the source of this handler. Define it with `def handler(event, "
            "context):` in a cell of this notebook, run that cell, then try again.") from None
    return textwrap.dedent(source)


def package_files(handler: Callable[..., Any]) -> dict[str, str]:
    """The files of the student's function: its ``index.py`` and the lab's ``lab_tools.py``."""
    source = handler_source(handler)
    name = getattr(handler, "__name__", "")
    if name != "handler":
        # Lambda calls index.handler: a function of another name gets that name as well.
        source += f"\n\nhandler = {name}\n"
    return {"index.py": HEADER + source,
            "lab_tools.py": Path(inspect.getfile(lab_tools)).read_text(encoding="utf-8")}


def load_package(files: Mapping[str, str]) -> tuple[Callable[..., Any], list[types.ModuleType]]:
    """Run the package's text in fresh modules; return its ``handler`` and its modules.

    Raises whatever the text raises at import (a SyntaxError, an ImportError): the caller
    turns it into a hint.
    """
    tools = types.ModuleType("lab_tools")
    tools.__file__ = "lab_tools.py"
    exec(compile(files["lab_tools.py"], "lab_tools.py", "exec"), vars(tools))  # noqa: S102
    index = types.ModuleType("index")
    index.__file__ = "index.py"
    saved = sys.modules.get("lab_tools")
    sys.modules["lab_tools"] = tools  # what `from lab_tools import ...` finds, only meanwhile
    try:
        exec(compile(files["index.py"], "index.py", "exec"), vars(index))  # noqa: S102
    finally:
        if saved is None:
            sys.modules.pop("lab_tools", None)
        else:
            sys.modules["lab_tools"] = saved
    return index.handler, [tools, index]
