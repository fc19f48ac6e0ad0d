"""The lab's promise under faults: every record Kinesis accepted is counted exactly once, or
is reported lost exactly where AWS itself would lose it (retries exhausted, on-failure queue).

Each test builds its own stream, table, role, function and trigger with the helpers (the
lab's trigger settings: batch 100, 2 retries, bisect on error, failure queue; 2 s windows from
conftest), runs the producer with a seed, injects a fault and ends in a reconciliation of the
producer's ledger with the table.

Fault rolls are seeded, and the local cloud draws exactly one random number per invocation
for an error rate (two for timeout + kill), whatever the timing; with one shard the tries of
one batch are consecutive invocations. A record is lost only if its one-record batch fails
three invocations in a row, so a seed whose draws hold no such run makes loss impossible and
the assertions strict (the seeds below were chosen for that over the first 600+ draws). The
faults must also happen in the first invocations: how many invocations a run makes depends on
how records fall into batches, which depends on timing.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.faults_client import clear_faults, set_faults
from wildrydes_helpers.function_zip import build_zip, lambda_dir
from wildrydes_helpers.ledger import Ledger
from wildrydes_helpers.session import LabSession

ERROR_SEED = 474  # 10% errors: the first 2 draws fail, never 3 in a row in 1500
# 10% timeouts + 10% kills: the 1st invocation times out and the 2nd is killed, so both happen
# however few invocations the timing makes; no 3 faults in a row within 600 invocations.
KILL_SEED = 4131

# Wraps the lab's own handler (index.py, shipped beside it in the same zip).
VARIANT = textwrap.dedent('''
    import json, os, time
    from decimal import Decimal

    import index

    PAD_BYTES = 1_100_000  # above Lambda's 1 MB state limit, on every batch


    def _trace(event):
        records = event.get("Records") or []
        print("Trace: " + json.dumps({
            "t": time.time(), "window": (event.get("window") or {}).get("start"),
            "final": bool(event.get("isFinalInvokeForWindow")),
            "early": bool(event.get("isWindowTerminatedEarly")), "records": len(records)}))


    def trace(event, context):
        _trace(event)
        return index.handler(event, context)


    def poison(event, context):
        _trace(event)
        for record in event.get("Records") or []:
            try:
                name, _ = index.read_record(record)
            except ValueError:
                continue
            if name == "Poison":
                raise RuntimeError("a record of unicorn Poison: this function cannot survive it")
        return index.handler(event, context)


    def bigstate(event, context):
        """Accounts each batch in an item of its own, then returns a state over 1 MB."""
        _trace(event)
        table = index._table(os.environ["TABLE_NAME"])
        window = event["window"]["start"]
        early = bool(event.get("isWindowTerminatedEarly"))
        records = event.get("Records") or []
        per = {}
        for record in records:
            name, distance = index.read_record(record)
            d, n = per.get(name, (0.0, 0))
            per[name] = (index.add(d, distance), n + 1)
        for name, (distance, count) in per.items():
            # Keyed by the batch's first record: a retried batch overwrites its own item.
            first = records[0]["kinesis"]["sequenceNumber"]
            table.put_item(Item={"name": name, "windowStart": f"{window}#{first}",
                                 "distance": Decimal(repr(distance)), "records": count,
                                 "early": early})
        if event.get("isFinalInvokeForWindow"):
            table.put_item(Item={"name": "__final__", "windowStart": window, "early": early,
                                 "stateKeys": json.dumps(sorted(event.get("state") or {}))})
            return {"state": {}}
        return {"state": {"pad": "x" * PAD_BYTES}}
''')


# --------------------------------------------------------------------------- the kit


def make_pipeline(lab: LabSession, prefix: str) -> LabSession:
    """Stream, table, role, function and trigger (the lab's settings), made by the helpers."""
    s = prefixed(lab, prefix)
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    return s


def use_variant(s: LabSession, tmp_path: Path, handler: str, **env: str) -> None:
    """Deploy the lab's code plus ``variant.py`` and point the handler at ``variant.<handler>``."""
    root = tmp_path / "variant-src"
    shutil.copytree(lambda_dir(), root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "variant.py").write_text(VARIANT)
    lam = s.client("lambda")
    name = s.config.function_name
    lam.update_function_code(FunctionName=name, ZipFile=build_zip(root))
    lam.update_function_configuration(
        FunctionName=name, Handler=f"variant.{handler}",
        Environment={"Variables": {"TABLE_NAME": s.config.table_name, **env}})


def produce(s: LabSession, tmp_path: Path, names: list[str], count: int, rate: float = 4.0,
            seed: int = 7, ledger: str = "ledger.json") -> Ledger:
    result = wr.run_producer(names, rate=rate, count=count, seed=seed, session=s,
                             ledger_path=tmp_path / ledger)
    assert result.failed == 0 and result.total == count * len(names)
    return wr.read_ledger(tmp_path / ledger)


def wait_and_reconcile(s: LabSession, ledger: Ledger, timeout: float = 40.0) -> Any:
    done = wr.wait_for_windows(ledger=ledger, timeout=timeout, poll_s=0.3, progress=False,
                               session=s)
    result = wr.reconcile(ledger, wr.windows(session=s), session=s)
    print("\n" + result.summary())
    assert done.complete, (done.message, repr(result))
    return result


def traces(s: LabSession) -> list[dict[str, Any]]:
    """Every ``Trace:`` line of the function's log, in invocation order."""
    logs = s.client("logs")
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": s.config.log_group_name,
                              "filterPattern": '"Trace:"'}
    while True:
        page = logs.filter_log_events(**kwargs)
        for event in page["events"]:
            text = event["message"]
            found.append(json.loads(text[text.index("{"):]))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return sorted(found, key=lambda t: t["t"])


def failure_messages(s: LabSession, expect: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The failure queue's messages: wait for ``expect`` of them, then make sure no more come."""
    sqs = s.client("sqs")
    url = sqs.get_queue_url(QueueName=s.config.failure_queue_name)["QueueUrl"]
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1 if len(got) < expect else 0)
        messages = resp.get("Messages", [])
        got += [json.loads(m["Body"]) for m in messages]
        if len(got) >= expect and not messages:
            break
    return got


def batch_items_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """The bigstate variant's per-batch items, summed per unicorn and window as the lab's rows."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        if item["name"] == "__final__":
            continue
        window = str(item["windowStart"]).split("#", 1)[0]
        row = rows.setdefault((item["name"], window), {"distance": Decimal(0), "records": 0})
        row["distance"] += item["distance"]
        row["records"] += int(item["records"])
    return pd.DataFrame([{"name": n, "windowStart": pd.Timestamp(w),
                          "distance": float(r["distance"]), "records": r["records"]}
                         for (n, w), r in rows.items()],
                        columns=["name", "windowStart", "distance", "records"])


def finish(s: LabSession) -> None:
    clear_faults(session=s)
    wr.clean_up(stop_producer=False, session=s)


@pytest.fixture
def faults_off(lab):
    clear_faults(session=lab)
    yield
    clear_faults(session=lab)


# --------------------------------------------------------------------------- the tests


def test_fault_helper_sets_and_clears(lab, faults_off):
    on = set_faults(session=lab, invoke_error_rate=0.25, seed=3)
    assert on["invoke_error_rate"] == 0.25 and on["seed"] == 3
    off = clear_faults(session=lab)
    assert off["invoke_error_rate"] == 0.0 and off["seed"] is None
    with pytest.raises(wr.WildRydesError, match="refused.*between 0 and 1"):
        set_faults(session=lab, invoke_error_rate=2)
    with pytest.raises(wr.WildRydesError, match="unknown fault setting"):
        set_faults(session=lab, typo_rate=0.1)


def test_ten_percent_of_invocations_fail_and_the_table_is_exact(lab, tmp_path, faults_off):
    s = make_pipeline(lab, "rel-err")
    set_faults(session=s, invoke_error_rate=0.1, seed=ERROR_SEED)
    ledger = produce(s, tmp_path, ["Shadowfax", "Rocinante", "Bucephalus"], count=14)
    result = wait_and_reconcile(s, ledger)
    assert result.exact, repr(result)
    assert failure_messages(s, expect=0, timeout=1) == []  # nothing was given up
    errors = wr.log_events(filter_pattern='"InjectedFault"', session=s)
    assert len(errors) >= 2  # the faults really happened (seeded: a fixed share)
    finish(s)


def test_killed_workers_and_timeouts_are_retried_and_the_table_is_exact(lab, tmp_path,
                                                                       faults_off):
    s = make_pipeline(lab, "rel-kill")
    set_faults(session=s, worker_kill_rate=0.1, invoke_timeout_rate=0.1, seed=KILL_SEED)
    ledger = produce(s, tmp_path, ["Shadowfax", "Rocinante"], count=14)
    result = wait_and_reconcile(s, ledger)
    assert result.exact, repr(result)
    assert failure_messages(s, expect=0, timeout=1) == []
    killed = wr.log_events(filter_pattern='"Runtime.ExitError"', session=s)
    timed_out = wr.log_events(filter_pattern='"Task timed out"', session=s)
    assert len(killed) >= 1 and len(timed_out) >= 1
    finish(s)


def test_a_poison_pill_loses_exactly_its_record_and_reports_it(lab, tmp_path, faults_off):
    s = make_pipeline(lab, "rel-poison")
    use_variant(s, tmp_path, "poison")
    good: dict[str, Ledger] = {}

    def good_producer() -> None:
        good["ledger"] = produce(s, tmp_path, ["Shadowfax", "Rocinante"], count=12)

    thread = threading.Thread(target=good_producer)
    thread.start()
    time.sleep(1.2)  # in the middle of the good records, so bisect has to pick it out
    poison = produce(s, tmp_path, ["Poison"], count=1, ledger="poison.json")
    thread.join()
    ledger = good["ledger"]
    ledger.unicorns["Poison"] = poison.unicorns["Poison"]  # one ledger of everything sent

    wr.wait_for_windows(expected={"Shadowfax": 12, "Rocinante": 12}, ledger=ledger,
                        timeout=40, poll_s=0.3, progress=False, session=s)
    result = wr.reconcile(ledger, wr.windows(session=s), session=s)
    print("\n" + result.summary())
    verdicts = {u.name: u.verdict for u in result.unicorns}
    assert verdicts["Shadowfax"] == verdicts["Rocinante"] == "exact", repr(result)
    # The lost record's window is named: the stream says where it belonged.
    lost_window = [(w.kind, w.expected_records, w.table_records) for w in result.window_differences]
    assert lost_window == [("missing", 1, None)], repr(result)
    assert verdicts["Poison"].startswith("NOT exact: window ") and "missing (1 record" in \
        verdicts["Poison"]

    messages = failure_messages(s, expect=1)
    assert len(messages) == 1, messages
    info = messages[0]["KinesisBatchInfo"]
    seq = poison.unicorns["Poison"].first_sequence
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (seq, seq)
    assert info["batchSize"] == 1 and info["shardId"] == poison.shard_ids[0]
    assert messages[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # Its own batch of one was tried 1 + 2 times; the bigger batches it was in count too.
    assert messages[0]["requestContext"]["approximateInvokeCount"] >= 3
    lost = sum(u.ledger_records - u.table_records for u in result.unicorns)
    assert lost == sum(m["KinesisBatchInfo"]["batchSize"] for m in messages)
    finish(s)


def test_a_failing_final_invocation_blocks_its_shard_until_it_succeeds(lab, tmp_path,
                                                                      faults_off):
    s = make_pipeline(lab, "rel-final")
    # No SDK retries inside the function: each failing write fails its invocation at once.
    use_variant(s, tmp_path, "trace", AWS_MAX_ATTEMPTS="1")
    set_faults(session=s, ddb_write_error_rate=1.0)
    w = s.config.window_seconds
    ledger = produce(s, tmp_path, ["Shadowfax"], count=4 * w, rate=2.0)
    time.sleep(w + 1.5)  # the first windows have ended: their finals fail again and again
    assert wr.windows(session=s).empty
    blocked = traces(s)
    clear_faults(session=s)
    result = wait_and_reconcile(s, ledger)
    assert result.exact, repr(result)

    found = traces(s)
    windows = [t["window"] for t in found]
    assert windows == sorted(windows), "a later window was delivered before an earlier final"
    first = min(windows)
    finals_of_first = [t for t in found if t["window"] == first and t["final"]]
    assert len(finals_of_first) >= 2  # failed while the writes failed, then succeeded
    later = [t for t in blocked if t["window"] > first]
    assert not later, "records of a later window were delivered while the final was failing"
    finish(s)


def test_a_state_over_1_mb_ends_the_window_early_and_loses_nothing(lab, tmp_path, faults_off):
    s = make_pipeline(lab, "rel-big")
    use_variant(s, tmp_path, "bigstate")
    ledger = produce(s, tmp_path, ["Shadowfax", "Rocinante"], count=12)
    table = s.boto.resource("dynamodb", region_name=s.config.region,
                            endpoint_url=s.endpoint).Table(s.config.table_name)
    deadline = time.monotonic() + 40
    while True:
        items = table.scan()["Items"]
        result = wr.reconcile(ledger, batch_items_frame(items), session=s)
        batch_windows = {str(i["windowStart"]).split("#", 1)[0] for i in items
                         if i["name"] != "__final__"}
        final_windows = {i["windowStart"] for i in items if i["name"] == "__final__"}
        if (result.exact and batch_windows <= final_windows) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    print("\n" + result.summary())
    assert result.exact, repr(result)
    assert batch_windows == final_windows  # every window that got records was closed

    found = traces(s)
    finals = [t for t in found if t["final"]]
    assert finals and all(t["early"] for t in finals)  # every window's state went over 1 MB
    assert len({t["window"] for t in finals}) == len(finals)  # one final per window
    final_items = [i for i in items if i["name"] == "__final__"]
    assert final_items
    assert all(i["early"] and i["stateKeys"] == "[]" for i in final_items)  # state restarted
    finish(s)
