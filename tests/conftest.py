"""Shared fixtures, the test run's own environment, and the markers each folder gives its tests.

Every test run gets its own WILDRYDES_HOME and local cloud port. The local cloud that the
tests (or the notebooks they run) start lives under that home and is stopped at the end of
the session by its recorded PID, so no test leaves a process behind.

The environment is set in full, not defaulted: a ``WILDRYDES_WINDOW_SECONDS=60`` or an
``AWS_PROFILE`` exported in the shell must not change what the tests see
(tests/local_cloud/test_isolation_from_the_shell.py proves it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wildrydes_helpers.ports import free_port as free_port_now
from wildrydes_helpers.run_lab import lab_environment

TEST_WINDOW_SECONDS = 2
FOLDER_MARKERS = {"unit": "unit", "local_cloud": "local_cloud", "notebooks": "notebooks",
                  "browser": "browser"}


_HOME = Path(tempfile.mkdtemp(prefix="wildrydes-test-"))
_ENV = lab_environment(os.environ, _HOME, free_port_now(), TEST_WINDOW_SECONDS)
_ENV["MPLBACKEND"] = "Agg"
os.environ.clear()
os.environ.update(_ENV)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its folder: unit, local_cloud, notebooks or browser."""
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        try:
            folder = Path(str(item.path)).resolve().relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker is not None:
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session", autouse=True)
def _stop_everything_at_the_end() -> Iterator[None]:
    yield
    from wildrydes_helpers import producer
    from wildrydes_helpers.config import load_config
    from wildrydes_helpers.local import process as local_cloud

    cfg = load_config()
    producer.stop_all_producers(cfg)
    local_cloud.stop(cfg)
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def lab():
    """A LabSession on the test run's local cloud (started on first use)."""
    from wildrydes_helpers.session import get_session

    return get_session()


@pytest.fixture
def free_port() -> int:
    return free_port_now()


@pytest.fixture
def fresh_sessions() -> Iterator[None]:
    """No session cached before or after the test (tests/unit and tests/local_cloud share it)."""
    from wildrydes_helpers.session import reset_sessions

    reset_sessions()
    yield
    reset_sessions()
