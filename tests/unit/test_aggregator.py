"""Unit tests of the lab's aggregating function, lambda/index.py.

The function is loaded from its file, as Lambda loads it, and its DynamoDB table is replaced
by an in-memory fake, so no endpoint is contacted and no local cloud is needed.
"""

from __future__ import annotations

import base64
import copy
import doctest
import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "kit" / "events"
WINDOW_KEYS = {
    "Records",
    "window",
    "state",
    "shardId",
    "eventSourceARN",
    "isFinalInvokeForWindow",
    "isWindowTerminatedEarly",
}
RECORD_KEYS = {
    "kinesis",
    "eventSource",
    "eventVersion",
    "eventID",
    "eventName",
    "invokeIdentityArn",
    "awsRegion",
    "eventSourceARN",
}
KINESIS_KEYS = {
    "kinesisSchemaVersion",
    "partitionKey",
    "sequenceNumber",
    "data",
    "approximateArrivalTimestamp",
}


class FakeTable:
    """A DynamoDB table in a dict, keyed like UnicornAggregation (name, windowStart)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.puts = 0

    def put_item(self, Item: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.puts += 1
        self.items[(Item["name"], Item["windowStart"])] = dict(Item)
        return {}


def load_function() -> ModuleType:
    """Load lambda/index.py afresh, as a new Lambda execution environment would."""
    spec = importlib.util.spec_from_file_location("wildrydes_aggregator", ROOT / "lambda/index.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fn(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_function()
    table = FakeTable()
    module.fake_table = table
    module.tables_asked = []

    def fake_table(name: str) -> FakeTable:
        module.tables_asked.append(name)
        return table

    monkeypatch.setattr(module, "_table", fake_table)
    monkeypatch.setenv("TABLE_NAME", "UnicornAggregation")
    return module


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def record(payload: bytes | str, event_id: str = "shardId-000000000000:1") -> dict[str, Any]:
    """A record in the shape of rule 2 whose data is ``payload`` (bytes are base64-encoded)."""
    data = base64.b64encode(payload).decode() if isinstance(payload, bytes) else payload
    base = copy.deepcopy(event("window_first")["Records"][0])
    base["kinesis"]["data"] = data
    base["eventID"] = event_id
    return base


def unicorn(name: str, distance: Any) -> dict[str, Any]:
    return record(json.dumps({"Name": name, "Distance": distance}).encode())


def lines(out: str, label: str) -> list[dict[str, Any]]:
    prefix = f"{label}: "
    return [json.loads(line[len(prefix) :]) for line in out.splitlines() if line.startswith(prefix)]


# --- the fixtures themselves ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["window_first", "window_middle", "window_final", "window_terminated_early"],
)
def test_rule_01_02_window_fixtures_have_the_exact_aws_shape(name: str) -> None:
    ev = event(name)
    assert set(ev) == WINDOW_KEYS
    assert set(ev["window"]) == {"start", "end"}
    for rec in ev["Records"]:
        assert set(rec) == RECORD_KEYS
        assert set(rec["kinesis"]) == KINESIS_KEYS
        assert rec["eventID"] == f"{ev['shardId']}:{rec['kinesis']['sequenceNumber']}"
        assert json.loads(base64.b64decode(rec["kinesis"]["data"]))["Name"]


def test_rule_04_plain_fixture_has_no_window_keys() -> None:
    ev = event("plain")
    assert set(ev) == {"Records"}
    assert all(set(rec) == RECORD_KEYS for rec in ev["Records"])


# --- aggregation ---------------------------------------------------------------------------


def test_two_unicorns_on_one_shard_stay_apart(fn: ModuleType) -> None:
    state = fn.handler(event("window_first"), None)["state"]
    assert state["unicorns"] == {
        "Shadowfax": {"distance": 59.5, "records": 2},
        "Rocinante": {"distance": 31.0, "records": 1},
    }
    assert state["bad"]["count"] == 0


def test_state_is_carried_across_three_batches(fn: ModuleType) -> None:
    first = fn.handler(event("window_first"), None)
    middle_event = event("window_middle")
    middle_event["state"] = first["state"]
    middle = fn.handler(middle_event, None)
    assert middle["state"]["unicorns"] == {
        "Shadowfax": {"distance": 120.5, "records": 4},
        "Rocinante": {"distance": 61.25, "records": 2},
    }
    final_event = event("window_final")
    final_event["state"] = middle["state"]
    final = fn.handler(final_event, None)
    assert final["state"] == middle["state"]
    assert {key: item["distance"] for key, item in fn.fake_table.items.items()} == {
        ("Shadowfax", "2026-11-27T10:00:00Z"): Decimal(121),
        ("Rocinante", "2026-11-27T10:00:00Z"): Decimal(61),
    }


def test_decimal_addition_keeps_the_state_exact(fn: ModuleType) -> None:
    ev = {"Records": [unicorn("Shadowfax", 0.1), unicorn("Shadowfax", 0.2)]}
    assert fn.handler(ev, None)["state"]["unicorns"]["Shadowfax"]["distance"] == 0.3


def test_plain_event_aggregates_and_writes_nothing(fn: ModuleType, capsys) -> None:
    result = fn.handler(event("plain"), None)
    assert result["state"]["unicorns"] == {
        "Shadowfax": {"distance": 30.0, "records": 1},
        "Rocinante": {"distance": 29.0, "records": 1},
    }
    assert fn.fake_table.puts == 0 and fn.tables_asked == []
    assert "Final: " not in capsys.readouterr().out


def test_window_terminated_early_starts_from_empty_state(fn: ModuleType, capsys) -> None:
    result = fn.handler(event("window_terminated_early"), None)
    assert result["state"]["unicorns"] == {"Shadowfax": {"distance": 59.0, "records": 2}}
    assert len(lines(capsys.readouterr().out, "Window terminated early")) == 1
    assert fn.fake_table.puts == 0


@pytest.mark.parametrize(
    "name",
    ["window_first", "window_middle", "window_final", "window_terminated_early", "plain"],
)
def test_always_returns_a_state_object(fn: ModuleType, name: str) -> None:
    result = fn.handler(event(name), None)
    assert set(result) == {"state"}
    assert isinstance(result["state"], dict)
    json.dumps(result)  # Lambda must be able to serialise it


# --- the final invocation ------------------------------------------------------------------


def test_final_writes_one_item_per_unicorn_with_typed_attributes(fn: ModuleType) -> None:
    fn.handler(event("window_final"), None)
    assert fn.tables_asked == ["UnicornAggregation"]
    assert fn.fake_table.puts == 2
    shadowfax = fn.fake_table.items[("Shadowfax", "2026-11-27T10:00:00Z")]
    assert shadowfax == {
        "name": "Shadowfax",
        "windowStart": "2026-11-27T10:00:00Z",
        "windowEnd": "2026-11-27T10:01:00Z",
        "distance": Decimal(121),  # 120.5 rounds half up, not to even
        "records": Decimal(4),
        "shardId": "shardId-000000000000",
    }
    assert all(type(v) is Decimal for v in (shadowfax["distance"], shadowfax["records"]))
    assert fn.fake_table.items[("Rocinante", "2026-11-27T10:00:00Z")]["distance"] == Decimal(61)


@pytest.mark.parametrize(
    ("metres", "expected"),
    [(0.5, 1), (2.5, 3), (12.49, 12), (12.5, 13), (120.0, 120), (0, 0), (1e9, 10**9)],
)
def test_distance_is_rounded_half_up_to_whole_metres(
    fn: ModuleType, metres: float, expected: int
) -> None:
    assert fn.whole_metres(metres) == Decimal(expected)
    assert fn.whole_metres(metres).as_tuple().exponent == 0


def test_final_log_line_carries_window_shard_and_state(fn: ModuleType, capsys) -> None:
    ev = event("window_final")
    fn.handler(ev, None)
    (final,) = lines(capsys.readouterr().out, "Final")
    assert final["window"] == ev["window"]
    assert final["shardId"] == "shardId-000000000000"
    assert final["state"]["unicorns"]["Shadowfax"] == {"distance": 120.5, "records": 4}


def test_final_without_table_name_says_which_variable(
    fn: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TABLE_NAME")
    with pytest.raises(RuntimeError, match="TABLE_NAME"):
        fn.handler(event("window_final"), None)
    assert fn.fake_table.puts == 0
    # Batches before the final one do not need the table.
    assert fn.handler(event("window_first"), None)["state"]["unicorns"]


def test_a_retried_final_invocation_duplicates_nothing(fn: ModuleType) -> None:
    fn.handler(event("window_final"), None)
    first = copy.deepcopy(fn.fake_table.items)
    fn.handler(event("window_final"), None)
    assert fn.fake_table.puts == 4
    assert fn.fake_table.items == first
    assert len(fn.fake_table.items) == 2


def test_final_with_empty_state_writes_nothing(fn: ModuleType) -> None:
    ev = event("window_final")
    ev["state"] = {}
    assert fn.handler(ev, None)["state"]["unicorns"] == {}
    assert fn.fake_table.puts == 0


def test_table_is_created_once_per_warm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_function()
    made: list[str] = []

    class FakeResource:
        def Table(self, name: str) -> str:  # noqa: N802 (boto3's name)
            made.append(name)
            return f"table:{name}"

    monkeypatch.setattr(module, "DYNAMODB", FakeResource())
    assert module._table("UnicornAggregation") == "table:UnicornAggregation"
    assert module._table("UnicornAggregation") == "table:UnicornAggregation"
    assert made == ["UnicornAggregation"]


# --- records it cannot read ----------------------------------------------------------------


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


BAD_RECORDS = {
    "not base64": "%%% not base64 %%%",
    "not UTF-8": b"\xff\xfe{}",
    "not JSON": b"Shadowfax flew 30 m",
    "not a JSON object": _json([{"Name": "Shadowfax", "Distance": 30}]),
    "no Name": _json({"Distance": 30}),
    "Name not a non-empty string": _json({"Name": 42, "Distance": 30}),
    "no Distance": _json({"Name": "Shadowfax"}),
    "Distance not a number": _json({"Name": "Shadowfax", "Distance": "30"}),
    "Distance not finite": b'{"Name": "Shadowfax", "Distance": NaN}',
    "Distance negative": _json({"Name": "Shadowfax", "Distance": -1}),
    "Distance too large": _json({"Name": "Shadowfax", "Distance": 1e300}),
}
MORE_BAD_RECORDS = [
    ("Name not a non-empty string", _json({"Name": "", "Distance": 30})),
    ("Name not a non-empty string", _json({"Name": "  ", "Distance": 30})),
    ("Name not a non-empty string", _json({"Name": None, "Distance": 30})),
    ("Distance not a number", _json({"Name": "Shadowfax", "Distance": True})),
    ("Distance not a number", _json({"Name": "Shadowfax", "Distance": None})),
    ("Distance not finite", b'{"Name": "Shadowfax", "Distance": Infinity}'),
    ("not JSON", b""),
]


@pytest.mark.parametrize(
    ("reason", "payload"), [*BAD_RECORDS.items(), *MORE_BAD_RECORDS], ids=lambda v: str(v)[:30]
)
def test_a_bad_record_is_counted_logged_and_spares_the_batch(
    fn: ModuleType, capsys, reason: str, payload: bytes | str
) -> None:
    ev = event("window_first")
    ev["Records"].insert(1, record(payload, event_id="shardId-000000000000:bad"))
    state = fn.handler(ev, None)["state"]
    assert state["bad"] == {"count": 1, "reasons": {reason: 1}}
    assert state["unicorns"]["Shadowfax"] == {"distance": 59.5, "records": 2}
    assert state["unicorns"]["Rocinante"] == {"distance": 31.0, "records": 1}
    logged = lines(capsys.readouterr().out, "Bad record")
    assert logged == [{"eventID": "shardId-000000000000:bad", "reason": reason}]


def test_a_record_without_data_is_bad_too(fn: ModuleType) -> None:
    ev = {"Records": [{"eventID": "x"}, "not even a dict", unicorn("Shadowfax", 30)]}
    state = fn.handler(ev, None)["state"]
    assert state["bad"] == {"count": 2, "reasons": {"no kinesis data": 2}}
    assert state["unicorns"]["Shadowfax"]["records"] == 1


def test_bad_counts_accumulate_across_batches(fn: ModuleType) -> None:
    first = fn.handler({"Records": [record(b"nope")], "state": {}}, None)["state"]
    second = fn.handler({"Records": [record(b"[]")], "state": first}, None)["state"]
    assert second["bad"] == {"count": 2, "reasons": {"not JSON": 1, "not a JSON object": 1}}


# --- the log -------------------------------------------------------------------------------


def test_log_has_one_line_per_batch_and_unicorn(fn: ModuleType, capsys) -> None:
    ev = event("window_middle")
    fn.handler(ev, None)
    out = capsys.readouterr().out
    existing = lines(out, "Existing")
    adding = lines(out, "Adding")
    returning = lines(out, "Returning state")
    assert [line["name"] for line in existing] == ["Shadowfax", "Rocinante"]
    assert [line["name"] for line in adding] == ["Shadowfax", "Rocinante"]
    assert [line["name"] for line in returning] == ["Shadowfax", "Rocinante"]
    assert existing[0] == {"name": "Shadowfax", "distance": 59.5, "records": 2}
    assert adding[0] == {"name": "Shadowfax", "distance": 61.0, "records": 2}
    assert returning[0] == {"name": "Shadowfax", "distance": 120.5, "records": 4}


def test_log_lines_are_single_line_json(fn: ModuleType, capsys) -> None:
    fn.handler(event("window_first"), None)
    fn.handler(event("window_final"), None)
    for line in capsys.readouterr().out.splitlines():
        label, _, body = line.partition(": ")
        assert label in {"Existing", "Adding", "Returning state", "Final", "Writing"}
        assert isinstance(json.loads(body), dict)


# --- malformed events ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_event", "message"),
    [
        (["Records"], "event must be a JSON object, got list"),
        ("{}", "event must be a JSON object, got str"),
        ({"records": []}, "no 'Records' list"),
        ({"Records": {"a": 1}}, "'Records' must be a list, got dict"),
        ({"Records": [], "state": [1]}, "'state' must be a JSON object"),
        ({"Records": [], "state": {}, "isFinalInvokeForWindow": True}, "without 'window'"),
    ],
)
def test_a_malformed_event_gets_a_clear_message(
    fn: ModuleType, bad_event: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fn.handler(bad_event, None)


def test_the_docstring_examples_hold() -> None:
    module = load_function()
    result = doctest.testmod(module)
    assert result.attempted >= 6
    assert result.failed == 0
