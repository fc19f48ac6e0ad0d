"""The lab's optional exercises and their checkers (03: the handler, 05: pandas).

A checker never raises: an unsolved exercise prints a hint, so Run All and nbval stay green.
Names are imported on first use: ``function.py`` reads which code to deploy from
``exercises.source``, and the deploy switch itself imports ``function.py``.

Example
-------
>>> from wildrydes_helpers.exercises import check_handler
>>> check_handler(lambda event, context: {"state": {}}).passed
False
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ExerciseReport": "report",
    "check_handler": "handler_check",
    "check_speeds": "speed_check",
    "deploy_my_handler": "deploy",
    "deploy_reference_handler": "deploy",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
