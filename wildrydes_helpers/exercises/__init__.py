"""The lab's optional exercises and their checkers (03: the handler, 05: pandas).

A checker never raises: an unsolved exercise prints a hint, so Run All and nbval stay green.
The deploy switch (``deploy_my_handler``, ``deploy_reference_handler``) is imported on first
use, because ``function.py`` itself reads which code to deploy from ``exercises.source``.

Example
-------
>>> from wildrydes_helpers.exercises import check_handler
>>> check_handler(lambda event, context: {"state": {}}).passed
False
"""

from __future__ import annotations

from typing import Any

from .handler_check import check_handler
from .report import ExerciseReport
from .speed_check import check_speeds

__all__ = ["ExerciseReport", "check_handler", "check_speeds", "deploy_my_handler",
           "deploy_reference_handler"]


def __getattr__(name: str) -> Any:
    if name in ("deploy_my_handler", "deploy_reference_handler"):
        from . import deploy  # imports function.py, which imports .source of this package
        return getattr(deploy, name)
    raise AttributeError(name)
