"""Shared fixtures: every test run gets its own WILDRYDES_HOME and local cloud port.

The local cloud that the tests (or the notebooks they run) start lives under that home and
is stopped at the end of the session by its recorded PID, so no test leaves a process behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wildrydes_helpers.ports import free_port as free_port_now

_HOME = Path(tempfile.mkdtemp(prefix="wildrydes-test-"))
os.environ["WILDRYDES_HOME"] = str(_HOME)
os.environ["WILDRYDES_LOCAL_PORT"] = str(free_port_now())
os.environ["WILDRYDES_BACKEND"] = "local"
os.environ.setdefault("WILDRYDES_WINDOW_SECONDS", "2")
os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("WILDRYDES_PREFIX", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
# Point the AWS SDK away from any real configuration of the machine.
os.environ["AWS_CONFIG_FILE"] = str(_HOME / "aws-config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(_HOME / "aws-credentials")
os.environ["MPLBACKEND"] = "Agg"


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
