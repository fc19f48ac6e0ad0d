"""03's exercise on the local cloud: the student's handler, deployed, runs like the lab's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.exercises import deploy_my_handler, deploy_reference_handler
from wildrydes_helpers.exercises.window_events import STATE_AFTER_1, WINDOW, window_events

REPO = Path(__file__).resolve().parents[2]


def _answer():
    spec = importlib.util.spec_from_file_location("answer_03_local",
                                                  REPO / "teacher" / "answers" / "03_handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def _invoke(lab, event):
    resp = lab.client("lambda").invoke(FunctionName=lab.config.function_name,
                                       Payload=json.dumps(event).encode())
    assert "FunctionError" not in resp, resp["Payload"].read()
    return json.loads(resp["Payload"].read())


def test_the_deployed_handler_aggregates_and_writes_the_window(lab):
    s = prefixed(lab, "xmine")
    try:
        for step in (wr.create_stream, wr.create_table, wr.create_role):
            step(session=s)
        mine = deploy_my_handler(_answer(), session=s)
        assert mine.details["code"].startswith("your handler"), repr(mine)
        first, _second, final = window_events()
        assert _invoke(s, first) == {"state": STATE_AFTER_1}
        _invoke(s, final)
        item = s.client("dynamodb").get_item(
            TableName=s.config.table_name,
            Key={"name": {"S": "Shadowfax"}, "windowStart": {"S": WINDOW["start"]}})["Item"]
        assert (item["distance"], item["records"]) == ({"N": "88"}, {"N": "3"})
        back = deploy_reference_handler(session=s)
        assert back.details["code"] == "lambda/index.py (the lab's function)"
        assert "bad" in _invoke(s, first)["state"]  # the lab's function counts bad records
    finally:
        deploy_reference_handler(session=s)
        wr.clean_up(session=s)
