"""Nothing exported in the shell changes what the tests or the notebooks see.

A fresh pytest session runs tests/unit/test_isolation.py with other lab and AWS settings
exported; it must still see the test run's own (2 s windows, no prefix, local backend, no
profile, no endpoint, no credentials). tests/notebooks/test_run_nbval.py checks the
notebook runner the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.kit.shell_kit import HOSTILE_SHELL

ROOT = Path(__file__).resolve().parents[2]


def test_a_shell_setting_changes_nothing_the_tests_see(tmp_path: Path) -> None:
    env = dict(os.environ, **HOSTILE_SHELL)
    probe = ROOT / "tests" / "unit" / "test_isolation.py"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", str(probe)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 passed" in proc.stdout, proc.stdout[-3000:]

