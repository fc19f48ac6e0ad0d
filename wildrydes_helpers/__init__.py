"""Helpers for the Wild Rydes "Analytics with Tumbling Windows" lab.

Example
-------
>>> import wildrydes_helpers as wr     # doctest: +SKIP
>>> wr.get_session().describe()       # doctest: +SKIP
"""

from __future__ import annotations

from .config import Config, load_config
from .errors import WildRydesError
from .session import LabSession, get_session

__all__ = ["Config", "LabSession", "WildRydesError", "get_session", "load_config"]
