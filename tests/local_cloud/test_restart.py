"""The local cloud stopped and started again in the middle of the lab.

A new local cloud starts empty. Every helper called with the session of the old one must
then say plainly that the local cloud was restarted and which notebooks to run again, as one
WildRydesError with no botocore traceback chained to it. This test runs its own local cloud
(private home and port), so the shared one of the test run is untouched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import wildrydes_helpers as wr
from wildrydes_helpers.config import Config, load_config
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.session import LabSession, get_session


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSession, Config]]:
    home = tmp_path_factory.mktemp("restart-home")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = load_config({**os.environ, "WILDRYDES_HOME": str(home),
                       "WILDRYDES_LOCAL_PORT": str(port), "WILDRYDES_PREFIX": ""})
    try:
        lab = get_session(config=cfg)
        for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
            step(session=lab)
        old_boot = lab.boot_id
        assert local_cloud.stop(cfg)
        local_cloud.start(cfg)
        assert local_cloud.status(cfg)["boot_id"] != old_boot
        yield lab, cfg
    finally:
        wr.stop_all_producers(cfg)
        local_cloud.stop(cfg)


def _ledger(lab: LabSession) -> Path:
    return lab.config.home / "no-ledger-yet.json"


HELPERS: dict[str, Callable[[LabSession], Any]] = {
    "create_stream": lambda s: wr.create_stream(session=s),
    "create_table": lambda s: wr.create_table(session=s),
    "create_role": lambda s: wr.create_role(session=s),
    "create_function": lambda s: wr.create_function(session=s),
    "test_invoke": lambda s: wr.test_invoke(session=s),
    "stream_arn": lambda s: wr.stream_arn(session=s),
    "table_arn": lambda s: wr.table_arn(session=s),
    "role_arn": lambda s: wr.role_arn(session=s),
    "shard_ids": lambda s: wr.shard_ids(session=s),
    "run_producer": lambda s: wr.run_producer(count=1, session=s,
                                              ledger_path=s.config.home / "l.json"),
    "start_producer": lambda s: wr.start_producer(count=1, session=s),
    "log_events": lambda s: wr.log_events(session=s),
    "final_events": lambda s: wr.final_events(session=s),
    "invocations": lambda s: wr.invocations(session=s),
    "windows": lambda s: wr.windows(session=s),
    "wait_for_windows": lambda s: wr.wait_for_windows(expected={"Shadowfax": 1}, timeout=1,
                                                      progress=False, session=s),
    "clean_up": lambda s: wr.clean_up(session=s),
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
def test_every_helper_says_the_local_cloud_was_restarted(restarted, helper):
    lab, _cfg = restarted
    with pytest.raises(wr.WildRydesError) as err:
        HELPERS[helper](lab)
    message = str(err.value)
    assert "restarted" in message, message
    assert "00_introduction" in message  # where to start again
    assert err.value.__cause__ is None  # no botocore traceback chained for the student
    assert err.value.__context__ is None or err.value.__suppress_context__


def test_a_new_session_works_on_the_new_local_cloud(restarted):
    _lab, cfg = restarted
    from wildrydes_helpers.session import reset_sessions

    reset_sessions()
    fresh = get_session(config=cfg)
    assert wr.create_stream(session=fresh).status == "created"  # it starts empty
