"""Unit tests of 04's event capture and 07's pure pieces (no local cloud needed).

- lambda/index.py logs the whole event only when LOG_EVENTS is "1";
- events_capture reads ``Event:`` lines back, masks account ids, pairs a batch event with
  its window's final event;
- failure_lab's report and the variants' logic; failure_prediction's checker accepts the
  answer key and rejects typical wrong answers, and never raises.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from wildrydes_helpers.events_capture import event_json, events_from_logs, pick_window_events
from wildrydes_helpers.failure_lab import (
    batches_from_logs,
    report_from_batches,
    variant_files,
)
from wildrydes_helpers.failure_prediction import (
    FIELDS,
    blank_prediction,
    check_prediction,
    observed_facts,
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "kit" / "events"
ACCOUNT = "123456789012"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def _record(item: dict, seq: str) -> dict:
    data = base64.b64encode(json.dumps(item).encode()).decode()
    return {"kinesis": {"data": data, "sequenceNumber": seq, "partitionKey": item["Name"]},
            "eventID": f"shardId-000000000000:{seq}"}


# --- lambda/index.py: LOG_EVENTS ----------------------------------------------------------

@pytest.mark.parametrize("value, logged", [(None, False), ("0", False), ("1", True)])
def test_the_function_logs_the_whole_event_only_when_asked(monkeypatch, capsys, value, logged):
    fn = _load(ROOT / "lambda" / "index.py", "wildrydes_aggregator_capture")
    if value is None:
        monkeypatch.delenv("LOG_EVENTS", raising=False)
    else:
        monkeypatch.setenv("LOG_EVENTS", value)
    event = _event("window_first")
    fn.handler(event, None)
    out = capsys.readouterr().out
    events = events_from_logs(out.splitlines())
    assert bool(events) is logged
    if logged:
        assert events[0]["Records"][0]["kinesis"]["sequenceNumber"] == \
            event["Records"][0]["kinesis"]["sequenceNumber"]
        assert events[0]["isFinalInvokeForWindow"] is False


# --- events_capture -----------------------------------------------------------------------

def test_events_are_masked_and_other_lines_ignored():
    event = dict(_event("window_first"),
                 eventSourceARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s")
    lines = ["START RequestId: 1", "Adding: {\"name\": \"x\"}", "Event: " + json.dumps(event),
             "Event: not json"]
    found = events_from_logs(lines)
    assert len(found) == 1
    assert ACCOUNT not in json.dumps(found)
    assert found[0]["eventSourceARN"].endswith(":********9012:stream/s")
    # Sequence numbers are long digit runs, not account ids: they stay whole.
    assert found[0]["Records"][0]["kinesis"]["sequenceNumber"] == \
        event["Records"][0]["kinesis"]["sequenceNumber"]


def test_a_batch_is_paired_with_the_final_of_its_own_shard_and_window():
    def ev(shard, start, final, n):
        return {"Records": list(range(n)), "shardId": shard, "window": {"start": start},
                "isFinalInvokeForWindow": final}
    events = [ev("s0", "t1", False, 2),          # its window never closed in the capture
              ev("s1", "t2", False, 3), ev("s1", "t2", False, 1),
              ev("s0", "t2", True, 0),            # another shard's final
              ev("s1", "t2", True, 0)]
    pair = pick_window_events(events)
    assert pair is not None
    assert pair["batch"] is events[1] and pair["final"] is events[4]
    assert pick_window_events(events[:3]) is None


def test_event_json_shortens_only_the_records():
    event = _event("window_middle")
    event["Records"] = event["Records"] * 5
    shown = json.loads(event_json(event, max_records=2))
    assert len(shown["Records"]) == 3 and shown["Records"][-1].startswith("... ")
    assert {k: v for k, v in shown.items() if k != "Records"} == \
        {k: v for k, v in event.items() if k != "Records"}


# --- the variants' logic ------------------------------------------------------------------

@pytest.fixture
def variant(tmp_path, monkeypatch):
    """Load a variant as Lambda would: its package unpacked, with the fake table."""
    loaded = []

    def load(kind: str, **settings) -> ModuleType:
        folder = tmp_path / kind
        folder.mkdir()
        for name, data in variant_files(kind, **settings).items():
            (folder / name).write_bytes(data)
        monkeypatch.syspath_prepend(str(folder))
        sys.modules.pop("aggregator", None)
        module = _load(folder / "index.py", f"variant_{kind}")
        puts: list[dict] = []
        fake = type("FakeTable", (), {"put_item": lambda self, Item: puts.append(Item)})()
        monkeypatch.setattr(module.aggregator, "_table", lambda name: fake)
        monkeypatch.setenv("TABLE_NAME", "UnicornAggregation")
        module.puts = puts
        loaded.append(module)
        return module

    yield load
    sys.modules.pop("aggregator", None)


def test_the_failing_variant_fails_only_batches_with_the_chosen_unicorn(variant, capsys):
    fn = variant("failing", fail_for=["Pegasus"])
    base = _event("window_first")
    ok = dict(base, Records=[_record({"Name": "Bucephalus", "Distance": 30}, "1")])
    assert fn.handler(ok, None)["state"]["unicorns"]["Bucephalus"]["records"] == 1
    bad = dict(base, state={}, Records=[_record({"Name": "Bucephalus", "Distance": 30}, "1"),
                                        _record({"Name": "Pegasus", "Distance": 30}, "2")])
    with pytest.raises(RuntimeError, match="Pegasus"):
        fn.handler(bad, None)
    rows = batches_from_logs(pd.DataFrame({"time": [0, 1], "message": [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("Batch:")]}))
    assert rows["fails"].tolist() == [False, True]
    assert rows["records"].tolist() == [1, 2]
    assert rows[~rows["final"]]["records"].sum() == 3
    assert batches_from_logs(pd.DataFrame({"time": [], "message": []}))["final"].dtype == bool


def test_the_partial_variant_reports_the_marked_record_unless_it_comes_first(variant):
    fn = variant("partial")
    base = dict(_event("window_first"), state={})
    records = [_record({"Name": "Zephyr", "Distance": 10}, "1"),
               _record({"Name": "Zephyr", "Distance": 20}, "2"),
               _record({"Name": "Zephyr", "Distance": 40, "FailOnce": True}, "3"),
               _record({"Name": "Zephyr", "Distance": 80}, "4")]
    answer = fn.handler(dict(base, Records=records), None)
    assert answer["batchItemFailures"] == [{"itemIdentifier": "3"}]
    # The state covers the records before the failed one only.
    assert answer["state"]["unicorns"]["Zephyr"] == {"distance": 30.0, "records": 2}
    retry = fn.handler(dict(base, state=answer["state"], Records=records[2:]), None)
    assert "batchItemFailures" not in retry
    assert retry["state"]["unicorns"]["Zephyr"] == {"distance": 150.0, "records": 4}
    final = dict(base, Records=[], isFinalInvokeForWindow=True, state=retry["state"])
    assert "batchItemFailures" not in fn.handler(final, None)
    assert [(p["name"], int(p["records"])) for p in fn.puts] == [("Zephyr", 4)]


def test_the_report_finds_the_retry_and_tolerates_missing_values():
    sent = [{"sequenceNumber": s, "Distance": 30.0} for s in ("11", "12", "13")]
    rows = pd.DataFrame([
        {"first": "01", "last": "02", "records": 2, "final": False, "reports": None},  # earlier
        {"first": "11", "last": "13", "records": 3, "final": False, "reports": "12"},
        {"first": "12", "last": "13", "records": 2, "final": False, "reports": float("nan")},
        {"first": None, "last": None, "records": 0, "final": True, "reports": None}])
    report = report_from_batches(sent, rows)
    assert [b["first"] for b in report.batches] == ["11", "12"]
    assert report.reported == "12" and report.retried_from_reported
    assert "invocation 2: 2 records (record 2 to record 3)\n" in report.summary() + "\n"
    assert "reports ?" not in report.summary()
    wrong = report_from_batches(sent, rows.iloc[[1, 3]])
    assert wrong.retry_first is None and not wrong.retried_from_reported
    none = report_from_batches(sent, rows.iloc[[2]].assign(reports=None))
    assert none.reported is None and "run the demo again" in none.summary()


# --- the prediction checker ---------------------------------------------------------------

OBSERVED = {
    "requestContext": {"requestId": "r", "condition": "RetryAttemptsExhausted",
                       "approximateInvokeCount": 3},
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                        "functionError": "Unhandled"},
    "version": "1.0",
    "KinesisBatchInfo": {"shardId": "shardId-000000000000", "startSequenceNumber": "5",
                         "endSequenceNumber": "5", "batchSize": 1, "streamArn": "arn"},
}


def _answer_key() -> dict:
    key = _load(ROOT / "teacher" / "answers" / "07_failure_record_prediction.py", "key07")
    return dict(key.ANSWER)


def test_the_answer_key_is_accepted():
    check = check_prediction(_answer_key(), OBSERVED)
    assert check.all_correct, repr(check)
    assert "All five right." in repr(check)


@pytest.mark.parametrize("field, wrong", [
    ("batchSize", 8),                       # the whole burst, as if it were never split
    ("batchSize", "1"),                     # a string is not the number Lambda sends
    ("contains_record_data", True),         # the records are not in the failure record
    ("condition", "RecordAgeExceeded"),     # not too old: the retries ran out
    ("functionError", "Handled"),
    ("shardId", "shardId-000000000001"),
])
def test_typical_wrong_answers_are_rejected_with_an_explanation(field, wrong):
    prediction = dict(_answer_key(), **{field: wrong})
    check = check_prediction(prediction, OBSERVED)
    assert not check.all_correct and check.wrong == [field]
    line = next(x for x in check.lines if x.startswith(f"[x] {field}"))
    assert "you predicted" in line and len(line) > 80


def test_unfinished_or_odd_predictions_get_hints_never_errors():
    blank = check_prediction(blank_prediction(), OBSERVED)
    assert blank.missing == list(FIELDS) and not blank.all_correct
    assert all("not predicted yet" in x for x in blank.lines[:len(FIELDS)])
    assert "run the cells of part 2" in repr(check_prediction(_answer_key(), None))
    assert not check_prediction("batchSize=1", OBSERVED).all_correct
    assert not check_prediction({}, {}).all_correct


def test_observed_facts_read_a_record_with_data_as_containing_it():
    assert observed_facts(dict(OBSERVED, Records=[{}]))["contains_record_data"] is True
    assert observed_facts(OBSERVED) == _answer_key()
