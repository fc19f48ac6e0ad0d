"""04 waits for CloudWatch Logs before it checks: ``wait_for_logs`` under in-process moto,
with a fake clock and a fake sleep (the log events "arrive" during the wait)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from tests.kit.moto_lab import moto_lab
from wildrydes_helpers.ledger import Ledger, UnicornLedger, default_ledger_path, write_ledger
from wildrydes_helpers.session import LabSession
from wildrydes_helpers.waiting import LogWaitResult, wait_for_logs

WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:01:00Z"}


@pytest.fixture
def lab(monkeypatch, tmp_path):
    with moto_lab(monkeypatch, tmp_path) as session:
        cfg = session.config
        logs = session.client("logs")
        logs.create_log_group(logGroupName=cfg.log_group_name)
        for stream in ("batch", "final"):
            logs.create_log_stream(logGroupName=cfg.log_group_name, logStreamName=stream)
        yield session


def put(lab: LabSession, stream: str, *messages: str) -> None:
    now = int(time.time() * 1000)
    lab.client("logs").put_log_events(
        logGroupName=lab.config.log_group_name, logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])


def adding(name: str, records: int) -> str:
    return "Adding: " + json.dumps({"name": name, "distance": 30.0 * records,
                                    "records": records})


def final(unicorns: dict[str, int]) -> str:
    state = {"unicorns": {n: {"distance": 30.0 * r, "records": r} for n, r in unicorns.items()}}
    return "Final: " + json.dumps({"window": WINDOW, "shardId": "shardId-000000000000",
                                   "state": state, "isFinalInvokeForWindow": True,
                                   "isWindowTerminatedEarly": False})


class FakeTime:
    """A clock that moves only when the wait sleeps; each sleep may deliver log events."""

    def __init__(self, deliveries: dict[int, Callable[[], None]] | None = None) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.deliveries = deliveries or {}

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        deliver = self.deliveries.get(self.sleeps)
        if deliver:
            deliver()


def ledger(**records: int) -> Ledger:
    led = Ledger(stream="wildrydes", window_seconds=60, started_at=time.time() - 60)
    led.unicorns = {n: UnicornLedger(records=r) for n, r in records.items()}
    return led


@pytest.mark.parametrize("last", ["final", "batch"])
def test_it_waits_until_the_final_lines_and_the_batches_are_visible(lab, last):
    # Each execution environment has its own log stream, and CloudWatch Logs may show one
    # stream's events before another's: either kind of line can come last.
    put(lab, "batch", adding("Shadowfax", 2))  # visible at once: only part of the run
    batch = lambda: put(lab, "batch", adding("Rocinante", 3))  # noqa: E731
    finals = lambda: put(lab, "final", final({"Shadowfax": 2, "Rocinante": 3}))  # noqa: E731
    first, second = (batch, finals) if last == "final" else (finals, batch)
    fake = FakeTime({2: first, 4: second})
    result = wait_for_logs(ledger=ledger(Shadowfax=2, Rocinante=3), poll_s=2.0,
                           progress=False, session=lab, clock=fake.clock, sleep=fake.sleep)
    assert result.complete
    assert fake.sleeps == 4  # it neither stopped early nor waited on after the last line
    assert result.in_finals == {"Shadowfax": 2, "Rocinante": 3}
    assert result.in_batches == {"Shadowfax": 2, "Rocinante": 3}
    assert result.message.startswith("The function's logs of this run are all visible: 5 ")
    assert any(c.operation == "FilterLogEvents" for c in result.calls)


def test_a_final_logged_twice_counts_once(lab):
    # At least once: a repeated final invocation logs its Final: line again.
    put(lab, "batch", adding("Shadowfax", 2))
    put(lab, "final", final({"Shadowfax": 2}), final({"Shadowfax": 2}))
    fake = FakeTime()
    result = wait_for_logs(expected={"Shadowfax": 2}, since=0, progress=False,
                           session=lab, clock=fake.clock, sleep=fake.sleep)
    assert result.complete and result.in_finals == {"Shadowfax": 2} and fake.sleeps == 0


def test_it_gives_up_after_the_timeout_with_a_message_not_an_error(lab):
    put(lab, "batch", adding("Shadowfax", 2))
    fake = FakeTime()
    result = wait_for_logs(expected={"Shadowfax": 2, "Rocinante": 3}, since=0, timeout=30,
                           poll_s=5, progress=False, session=lab,
                           clock=fake.clock, sleep=fake.sleep)
    assert not result.complete
    assert fake.now == 30 and fake.sleeps == 6  # bounded: it stops at the timeout
    assert "does not show all of this run yet after 30 s" in result.message
    assert "Rocinante: 0 of 3 in Final: lines, 0 of 3 in batch calls" in result.message
    assert "Shadowfax: 0 of 2 in Final: lines, 2 of 2 in batch calls" in result.message
    assert "run this cell again in a minute" in repr(result)


def test_no_log_group_yet_is_waited_for_not_an_error(lab):
    lab.client("logs").delete_log_group(logGroupName=lab.config.log_group_name)
    fake = FakeTime()
    result = wait_for_logs(expected={"Shadowfax": 1}, since=0, timeout=4, poll_s=2,
                           progress=False, session=lab, clock=fake.clock, sleep=fake.sleep)
    assert isinstance(result, LogWaitResult) and not result.complete


def test_it_reads_the_ledger_file_by_default(lab):
    lab.config.home.mkdir(parents=True, exist_ok=True)
    write_ledger(ledger(Shadowfax=1), default_ledger_path(lab.config))
    put(lab, "batch", adding("Shadowfax", 1))
    put(lab, "final", final({"Shadowfax": 1}))
    fake = FakeTime()
    result = wait_for_logs(progress=False, session=lab, clock=fake.clock, sleep=fake.sleep)
    assert result.complete and result.expected == {"Shadowfax": 1}
