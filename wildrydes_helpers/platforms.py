"""Where the lab runs: which operating systems, with which backend, tested or not.

The local cloud runs each function in a worker process that talks to it over inherited pipe
file descriptors (``pass_fds`` and ``select`` on pipes), which only POSIX systems have. So the
local backend needs Linux or macOS (on Windows: WSL2); the aws backend needs only boto3.

Example
-------
>>> platform_support("local", "linux").supported
True
>>> platform_support("local", "windows").supported
False
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass

from .processes import platform_name

WINDOWS_LOCAL_CLOUD = (
    "The local cloud cannot run on native Windows: it runs each function in a worker process "
    "that talks to it over POSIX pipes, which Windows lacks. Use WSL2 (install Ubuntu from "
    "the Microsoft Store, then `make lab` inside it, as on Linux), or use a real AWS account "
    "with `WILDRYDES_BACKEND=aws` (the conda environment works on Windows for that)."
)


@dataclass(frozen=True)
class PlatformSupport:
    """Whether the lab runs on ``platform`` with a backend, and what to do if it does not.

    Example
    -------
    >>> PlatformSupport("linux", True, "tested").line()
    'linux: tested'
    """

    platform: str
    supported: bool
    detail: str

    def line(self) -> str:
        """``platform: detail``, one line for a terminal or a notebook.

        Example
        -------
        >>> platform_support("aws", "macos").line().startswith("macos: ")
        True
        """
        return f"{self.platform}: {self.detail}"


def is_wsl() -> bool:
    """True inside Windows Subsystem for Linux (its kernel release names Microsoft).

    Example
    -------
    >>> isinstance(is_wsl(), bool)
    True
    """
    return "microsoft" in _platform.release().lower()


def platform_support(backend: str, platform: str | None = None) -> PlatformSupport:
    """How the lab fares on ``platform`` (this machine's by default) with ``backend``.

    Example
    -------
    >>> platform_support("aws", "windows").supported
    True
    >>> platform_support("local", "macos").detail[:17]
    'expected to work:'
    """
    name = platform or platform_name()
    if name == "linux":
        where = "linux (WSL2)" if platform is None and is_wsl() else "linux"
        return PlatformSupport(where, True, "tested (the project's tests run on Linux)")
    if name == "macos":
        return PlatformSupport(name, True, (
            "expected to work: the lab uses only what macOS has (POSIX processes and pipes, "
            "psutil instead of /proc), but the project's tests have not been run on macOS"))
    if name == "windows":
        if backend == "local":
            return PlatformSupport(name, False, WINDOWS_LOCAL_CLOUD)
        return PlatformSupport(name, True, (
            "aws backend: the helpers need only boto3 here; expected to work, not tried "
            "(the local cloud needs WSL2)"))
    return PlatformSupport(name, True, "not tried: the local cloud needs a POSIX system")
