"""Give the C heap's free pages back to the system, where the C library allows it.

CPython keeps small objects in arenas of its own, which it unmaps when they empty; bigger
blocks (the JSON of a request, a parsed API description, a list of records) come from the C
library's ``malloc``. glibc keeps the pages of freed blocks for later, so a burst of requests
leaves the local cloud holding memory it no longer uses. ``malloc_trim(0)`` returns them.

Example
-------
>>> give_back_free_memory() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any


@functools.cache
def _trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only: musl and others have no such function
    except (OSError, AttributeError):
        return None


def give_back_free_memory() -> bool:
    """Return the C heap's free pages to the system; False where that is not possible.

    Example
    -------
    >>> import sys
    >>> give_back_free_memory() or not sys.platform.startswith("linux")
    True
    """
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
