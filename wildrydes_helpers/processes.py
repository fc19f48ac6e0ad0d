"""Process handling for every platform: is a pid alive and ours, how much memory, stop a tree.

The local cloud, the producer, the function workers, the benchmarks and the tests all start
and stop processes. They do it through this module, which rests on psutil, so that nothing
reads ``/proc`` (macOS has none) and nothing names a POSIX-only attribute at import time
(Windows has no ``SIGKILL``, no sessions and no process groups).

Example
-------
>>> import os
>>> is_alive(os.getpid())
True
>>> is_alive(0)
False
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import psutil

POSIX = os.name == "posix"
DEFAULT_STOP_TIMEOUT_S = 5.0
_MB = 1024 * 1024


def _process(pid: int) -> psutil.Process | None:
    if pid <= 0:
        return None
    try:
        return psutil.Process(pid)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int) -> bool:
    """True when ``pid`` runs and is not a zombie waiting to be reaped.

    A zombie child of this process is reaped on the way, so it reads as gone.

    Example
    -------
    >>> is_alive(os.getpid()), is_alive(-1)
    (True, False)
    """
    proc = _process(pid)
    if proc is None:
        return False
    try:
        if proc.status() != psutil.STATUS_ZOMBIE:
            return True
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    _reap(pid)
    return False


def _reap(pid: int) -> None:
    # A child of ours that has exited stays a zombie until it is waited for.
    if POSIX:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def command_line(pid: int) -> str:
    """The command line of ``pid`` as one string, or ``""`` when it cannot be read.

    Example
    -------
    >>> "python" in command_line(os.getpid()).lower()
    True
    """
    proc = _process(pid)
    if proc is None:
        return ""
    try:
        return " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return ""


def environment(pid: int) -> dict[str, str]:
    """The environment ``pid`` was started with, or ``{}`` when it cannot be read.

    Example
    -------
    >>> "PATH" in environment(os.getpid()) or not POSIX
    True
    """
    proc = _process(pid)
    if proc is None:
        return {}
    try:
        return dict(proc.environ())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return {}


def is_ours(pid: int, *markers: str) -> bool:
    """True when ``pid`` is alive, runs as this user, and its command line has every marker.

    A pid read from a state file may have been recycled by another program, or belong to
    another user: such a process must never be signalled.

    Example
    -------
    >>> is_ours(os.getpid(), "python")
    True
    >>> is_ours(os.getpid(), "no such marker")
    False
    """
    proc = _process(pid)
    if proc is None or not is_alive(pid):
        return False
    if POSIX:
        try:
            if proc.uids().real != os.getuid():
                return False
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
    line = command_line(pid)
    return bool(line) and all(marker in line for marker in markers)


def tree(pid: int) -> list[psutil.Process]:
    """``pid`` and every process below it that is still running (empty when it is gone).

    Example
    -------
    >>> [p.pid for p in tree(os.getpid())][0] == os.getpid()
    True
    """
    proc = _process(pid)
    if proc is None:
        return []
    try:
        return [proc, *proc.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return [proc]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB, 0.0 when it cannot be read.

    Example
    -------
    >>> rss_mb(os.getpid()) > 0
    True
    """
    proc = _process(pid)
    if proc is None:
        return 0.0
    try:
        return proc.memory_info().rss / _MB
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0.0


def pss_mb(pid: int) -> float:
    """Proportional memory of ``pid`` in MB (its resident pages, each shared page divided among
    the processes that share it), 0.0 when it cannot be read; its RSS where the system does not
    count PSS (Linux does).

    Summed over processes, PSS is what they hold together; a sum of RSS counts a shared library,
    or a page a forked worker shares with its zygote, once per process.

    Example
    -------
    >>> 0 < pss_mb(os.getpid()) <= rss_mb(os.getpid())
    True
    """
    proc = _process(pid)
    if proc is None:
        return 0.0
    try:
        info = proc.memory_full_info()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0.0
    return float(getattr(info, "pss", info.rss)) / _MB


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants in MB.

    Example
    -------
    >>> tree_rss_mb(os.getpid()) > 0
    True
    """
    return sum(rss_mb(proc.pid) for proc in tree(pid))


def tree_pss_mb(pid: int) -> float:
    """Proportional memory (see ``pss_mb``) of ``pid`` and all its descendants in MB.

    Example
    -------
    >>> 0 < tree_pss_mb(os.getpid()) <= tree_rss_mb(os.getpid())
    True
    """
    return sum(pss_mb(proc.pid) for proc in tree(pid))


def _kill_all(procs: Iterable[psutil.Process]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.kill()


def stop_tree(pid: int, timeout: float = DEFAULT_STOP_TIMEOUT_S,
              include_children: bool = True) -> bool:
    """Stop ``pid`` (and, by default, everything below it): terminate, wait, then kill.

    The process is asked first (SIGTERM on POSIX, so it can flush what it holds); whatever is
    still running after ``timeout`` seconds is killed. Children are collected before the
    parent is asked, so a child left behind by a parent that exits is still found. Returns
    True when ``pid`` was running.

    Example
    -------
    >>> import subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    >>> stop_tree(child.pid, timeout=5)
    True
    >>> child.wait(5) is not None and not is_alive(child.pid)
    True
    """
    procs = tree(pid) if include_children else ([p] if (p := _process(pid)) else [])
    if not procs:
        return False
    head, rest = procs[0], procs[1:]
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        head.terminate()
    _, alive = psutil.wait_procs([head], timeout=timeout)
    _kill_all(alive)
    for proc in rest:  # anything the head left behind, e.g. a function's own child
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.terminate()
    _, alive = psutil.wait_procs(rest, timeout=min(timeout, 1.0))
    _kill_all(alive)
    _reap(pid)
    return True


def kill_tree(pid: int) -> None:
    """Kill ``pid`` and everything below it at once, with no grace period.

    Example
    -------
    >>> kill_tree(-1)   # nothing to kill: no error
    """
    procs = tree(pid)
    # Children first: a parent killed first could not be asked for its children any more.
    _kill_all(reversed(procs))


def new_session_options() -> dict[str, Any]:
    """``subprocess.Popen`` options that detach a child from the terminal's signals.

    On POSIX the child leads a new session (Ctrl-C in the notebook's terminal does not reach
    it, and its whole tree can be found again); on Windows it gets a new process group.

    Example
    -------
    >>> sorted(new_session_options()) in (["start_new_session"], ["creationflags"])
    True
    """
    if POSIX:
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


def signal_word(returncode: int | None) -> str:
    """How Lambda words a process's end by a signal: ``killed``, ``terminated``, ....

    Example
    -------
    >>> signal_word(-9) if POSIX else "killed"
    'killed'
    """
    if returncode is None:
        return "killed"
    number = -returncode
    words = {"SIGKILL": "killed", "SIGSEGV": "segmentation fault", "SIGABRT": "aborted",
             "SIGTERM": "terminated"}
    try:
        name = signal.Signals(number).name
    except ValueError:
        return str(number)
    return words.get(name, name.lower())


def platform_name() -> str:
    """``linux``, ``macos``, ``windows`` or the raw ``sys.platform`` of anything else.

    Example
    -------
    >>> platform_name() in ("linux", "macos", "windows") or bool(platform_name())
    True
    """
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return sys.platform
