"""The producer on the local cloud: a missing stream, records in Kinesis, the background process.

The producer's pure parts (values, pacing, retries, ledger, CLI checks) are in
tests/unit/test_producer.py.
"""

from __future__ import annotations

import json
import time

import psutil
import pytest

import wildrydes_helpers as wr
from wildrydes_helpers.cli import main as cli
from wildrydes_helpers.errors import PrerequisiteError
from wildrydes_helpers.ledger import read_ledger
from wildrydes_helpers.producer import (
    producer_status,
    run_producer,
    start_producer,
    stop_producer,
)


def test_cli_unknown_stream_exits_2_naming_step_00(lab, capsys):
    code = cli.main(["produce", "--stream", "no-such-stream", "--count", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "00_introduction" in err and "Traceback" not in err


def test_nonexistent_stream_names_step_00(lab, tmp_path):
    with pytest.raises(PrerequisiteError, match="00_introduction"):
        run_producer(stream="no-such-stream", count=1, session=lab,
                     ledger_path=tmp_path / "l.json")


def test_producer_on_the_local_cloud_reaches_kinesis(lab, tmp_path):
    wr.create_stream(session=lab)
    kinesis = lab.client("kinesis")
    shard = kinesis.list_shards(StreamName=lab.config.stream_name)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=lab.config.stream_name, ShardId=shard,
                                    ShardIteratorType="LATEST")["ShardIterator"]
    result = run_producer(["Shadowfax", "Rocinante"], rate=10.0, count=3, seed=5,
                          session=lab, ledger_path=tmp_path / "l.json")
    got = kinesis.get_records(ShardIterator=it)["Records"]
    assert result.sent == {"Shadowfax": 3, "Rocinante": 3}
    assert sorted(r["PartitionKey"] for r in got) == ["Rocinante"] * 3 + ["Shadowfax"] * 3
    led = read_ledger(tmp_path / "l.json")
    assert {r["SequenceNumber"] for r in got} >= {
        led.unicorns["Shadowfax"].first_sequence, led.unicorns["Rocinante"].last_sequence}


def test_background_producer_starts_reports_and_stops(lab):
    wr.create_stream(session=lab)
    started = start_producer(["Shadowfax"], rate=5.0, duration=60.0, seed=1, session=lab)
    pid = int(json.loads((lab.config.home / "producer.json").read_text())["pid"])
    try:
        assert started.status == "started"
        again = start_producer(["Shadowfax"], session=lab)
        assert again.status == "already running"
        deadline = time.monotonic() + 20
        while producer_status(session=lab).total < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        running = producer_status(session=lab)
        assert running.running and running.total >= 3
    finally:
        stopped = stop_producer(session=lab)
    assert stopped.status == "stopped"
    assert not psutil.pid_exists(pid)
    after = producer_status(session=lab)
    assert not after.running and after.finished  # the ledger was flushed on SIGTERM
    assert stop_producer(session=lab).status == "up to date"
