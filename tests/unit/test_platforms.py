"""The lab on every platform: nothing POSIX-only at import time, no /proc, clear words.

On Windows the local cloud cannot run; the doctor and the local cloud say so and what to do.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wildrydes_helpers import doctor, platforms
from wildrydes_helpers.config import Config
from wildrydes_helpers.errors import LocalCloudError
from wildrydes_helpers.local import process as local_cloud

PACKAGE = Path(__file__).resolve().parents[2] / "wildrydes_helpers"

# What native Windows lacks that a POSIX-minded module might name at import time.
HIDDEN_SIGNALS = ("SIGKILL", "SIGHUP", "SIGQUIT", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD",
                  "SIGSTOP", "SIGPIPE")
HIDDEN_OS = ("killpg", "setsid", "getpgid", "setpgrp", "fork", "getuid", "geteuid", "getppid",
             "WNOHANG", "sched_getaffinity")
HIDDEN_MODULES = ("fcntl", "termios", "pwd", "grp", "resource")

IMPORT_EVERY_MODULE = textwrap.dedent("""
    import importlib, os, pkgutil, signal, sys

    # Third-party libraries pick their own platform code; load them first, as they would be.
    import boto3, botocore.session, pandas, psutil, werkzeug  # noqa: F401

    hidden_signals, hidden_os, hidden_modules = {hidden}
    for name in hidden_signals:
        if hasattr(signal, name):
            delattr(signal, name)
    for name in hidden_os:
        if hasattr(os, name):
            delattr(os, name)
    for name in hidden_modules:
        sys.modules[name] = None  # `import resource` now raises ImportError

    import wildrydes_helpers
    names = [m.name for m in pkgutil.walk_packages(wildrydes_helpers.__path__,
                                                   "wildrydes_helpers.")
             if not m.name.endswith("__main__")]  # running the CLI is not importing it
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            failed.append(f"{{name}}: {{type(exc).__name__}}: {{exc}}")
    print(len(names), "modules")
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
""")


def test_every_module_imports_where_posix_only_names_do_not_exist(tmp_path: Path) -> None:
    script = tmp_path / "import_all.py"
    script.write_text(IMPORT_EVERY_MODULE.format(
        hidden=repr((HIDDEN_SIGNALS, HIDDEN_OS, HIDDEN_MODULES))))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=PACKAGE.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = int(proc.stdout.split()[0])
    assert count >= 50  # every module of the package was imported, not a handful


def test_the_import_check_would_catch_a_module_that_names_sigkill(tmp_path: Path) -> None:
    # The same prelude, then a module that names signal.SIGKILL at import time: it must fail.
    probe = tmp_path / "probe.py"
    probe.write_text(IMPORT_EVERY_MODULE.format(
        hidden=repr((HIDDEN_SIGNALS, HIDDEN_OS, HIDDEN_MODULES))).replace(
        "import wildrydes_helpers\n", "import wildrydes_helpers\nsignal.SIGKILL\n"))
    proc = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True,
                          timeout=120, cwd=PACKAGE.parent)
    assert proc.returncode != 0 and "SIGKILL" in proc.stderr


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_no_module_of_the_package_reads_proc() -> None:
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for text in _string_constants(path):
            # A path into /proc, in code (docstrings are prose about it, not reads of it).
            if text.startswith("/proc/") or text == "/proc":
                readers.append(f"{path.relative_to(PACKAGE.parent)}: {text!r}")
    assert readers == []


@pytest.mark.parametrize("platform, backend, supported", [
    ("linux", "local", True), ("linux", "aws", True),
    ("macos", "local", True), ("macos", "aws", True),
    ("windows", "local", False), ("windows", "aws", True),
])
def test_platform_support(platform: str, backend: str, supported: bool) -> None:
    support = platforms.platform_support(backend, platform)
    assert support.supported is supported
    assert support.platform == platform
    if not supported:
        assert "WSL2" in support.detail and "WILDRYDES_BACKEND=aws" in support.detail
    if platform == "macos":
        assert "not been run on macOS" in support.detail  # says what was not tried


def test_doctor_names_the_platform_first_and_stops_where_the_lab_cannot_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platforms, "platform_name", lambda: "windows")
    results = doctor.run_checks(Config(backend="local"), version_of=lambda _: "99.0")
    assert results[0].name == "platform" and not results[0].ok
    assert "WSL2" in results[0].line()
    assert "local cloud" not in [r.name for r in results]  # it would only fail again


def test_doctor_on_linux_says_tested() -> None:
    line = doctor.check_platform(Config(backend="local"), "linux").line()
    assert line.startswith("ok   platform linux") and "tested" in line


def test_the_local_cloud_refuses_native_windows_with_what_to_do(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(platforms, "platform_name", lambda: "windows")
    cfg = Config(home=tmp_path, local_port=1)
    with pytest.raises(LocalCloudError, match="WSL2"):
        local_cloud.start(cfg)
    assert not local_cloud.log_path(cfg).exists()  # refused before anything started
