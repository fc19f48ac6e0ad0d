"""03's exercise: the checker accepts the answer key and the lab's function, names each slip."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from wildrydes_helpers.exercises import check_handler, lab_tools
from wildrydes_helpers.exercises.deploy import deploy_my_handler
from wildrydes_helpers.exercises.package import load_package, package_files
from wildrydes_helpers.exercises.sandbox import run_handler
from wildrydes_helpers.exercises.window_events import window_events

REPO = Path(__file__).resolve().parents[2]

SKELETON_OUTPUT = """\
Exercise 03: your handler on a recorded window (2 batches, then the final call)
[hint] batch 1: the state has no unicorn's distance after 3 records. Add each record's distance,
       and 1 record, to its unicorn's totals (TODO 2).
[--]   batch 2: checked once batch 1 is right.
[hint] final call: nothing was written to the table. On the window's final invocation
       (isFinalInvokeForWindow is true), call write_window(event, state) (TODO 3).
Not solved yet: change your handler as the hint says, run its cell, then run this check again."""


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _handler(body: str) -> Any:
    """A handler compiled from the skeleton with ``body`` in place of its aggregation."""
    source = textwrap.dedent("""\
        from wildrydes_helpers.exercises.lab_tools import log_final, read_batch, read_record
        from wildrydes_helpers.exercises.lab_tools import write_window
        import boto3
        TOTALS = {}
        """) + textwrap.dedent(body)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<student cell>", "exec"), namespace)  # noqa: S102
    return namespace["handler"]


ANSWER_BODY = """\
    def handler(event, context):
        state = event.get("state") or {}
        unicorns = state.setdefault("unicorns", {})
        for name, distance in read_batch(event["Records"]):
            totals = unicorns.setdefault(name, {"distance": 0.0, "records": 0})
            totals["distance"] += distance
            totals["records"] += 1
        if event.get("isFinalInvokeForWindow"):
            log_final(event, state)
            write_window(event, state)
        return {"state": state}
    """


def _variant(old: str, new: str) -> Any:
    assert old in ANSWER_BODY
    return _handler(ANSWER_BODY.replace(old, new))


def test_the_answer_key_passes() -> None:
    answer = _load(REPO / "teacher" / "answers" / "03_handler.py", "answer_03")
    report = check_handler(answer.handler)
    assert report.passed, repr(report)
    assert "\nSolved: your handler aggregates like the lab's function." in repr(report)


def test_the_labs_own_function_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # its module makes a boto3 resource
    reference = _load(REPO / "lambda" / "index.py", "reference_index")
    assert check_handler(reference.handler, [reference]).passed


def test_the_skeleton_gives_hints_never_an_error_and_the_same_text_each_run() -> None:
    skeleton = _load(REPO / "wildrydes_helpers" / "exercises" / "handler_skeleton.py", "sk")
    first, second = check_handler(skeleton.handler), check_handler(skeleton.handler)
    assert not first.passed
    assert repr(first) == repr(second) == SKELETON_OUTPUT


@pytest.mark.parametrize(("old", "new", "words"), [
    ('totals["distance"] += distance', 'totals["distance"] = distance',
     "the distance of its last record only"),
    ('state = event.get("state") or {}', "state = {}", "the state was not carried over"),
    ('totals["distance"] += distance', 'totals["distance"] += 2 * distance',
     "counted twice"),
    ('totals["records"] += 1', 'totals["records"] += 2', "counted twice"),
    ('totals["records"] += 1', "pass", "add 1 to 'records'"),
    ("            write_window(event, state)\n", "", "nothing was written to the table"),
    ("        if event.get(\"isFinalInvokeForWindow\"):\n            log_final(event, state)\n",
     "        if True:\n", "not the window's last wrote to the table"),
    ("for name, distance in read_batch(event[\"Records\"]):",
     "for name, distance in map(read_record, event[\"Records\"]):",
     "broken record"),
    ("return {\"state\": state}", "return state", "return {'state': state}"),
    ('state = event.get("state") or {}', 'state = event.get("state") or {}\n'
     '        state = TOTALS', "keeps totals between invocations"),
])
def test_each_usual_slip_is_named_in_plain_words(old: str, new: str, words: str) -> None:
    report = check_handler(_variant(old, new))
    assert not report.passed
    assert any(words in hint for hint in report.hints), repr(report)


def test_adding_a_record_to_every_unicorn_is_named() -> None:
    wrong = _handler("""\
        def handler(event, context):
            state = event.get("state") or {}
            unicorns = state.setdefault("unicorns", {})
            batch = read_batch(event["Records"])
            for name, _ in batch:
                unicorns.setdefault(name, {"distance": 0.0, "records": 0})
            for name, distance in batch:
                for totals in unicorns.values():
                    totals["distance"] += distance
                unicorns[name]["records"] += 1
            return {"state": state}
        """)
    assert any("the whole batch's distance" in h for h in check_handler(wrong).hints)


@pytest.mark.parametrize("handler", [
    None, "handler", lambda event, context: None,
    lambda event, context: 1 / 0, lambda event: {"state": {}},
    lambda event, context: {"state": {"unicorns": {"x": "far"}}},
])
def test_a_broken_answer_gives_a_hint_not_an_exception(handler: Any) -> None:
    report = check_handler(handler)
    assert not report.passed and report.hints
    assert "Not solved yet" in repr(report)


def test_a_write_through_boto3_itself_is_recorded_and_restored() -> None:
    import boto3

    handler = _handler("""\
        def handler(event, context):
            boto3.resource("dynamodb").Table("T").put_item(Item={"name": "x"})
            return {"state": {}}
        """)
    env_before = os.environ.get("TABLE_NAME")
    run = run_handler(handler, window_events()[0])
    assert [w.item for w in run.writes] == [{"name": "x"}]
    assert handler.__globals__["boto3"] is boto3  # the real module is back
    assert lab_tools.boto3 is boto3
    assert os.environ.get("TABLE_NAME") == env_before


def test_an_error_names_the_line_of_the_handler() -> None:
    handler = _handler("""\
        def handler(event, context):
            state = event["state"]
            return {"state": state["missing"]}
        """)
    run = run_handler(handler, window_events()[0])
    assert isinstance(run.error, KeyError) and run.error_line == 3


def test_the_package_is_what_gets_checked() -> None:
    answer = _load(REPO / "teacher" / "answers" / "03_handler.py", "answer_03b")
    files = package_files(answer.handler)
    assert files["index.py"].count("def handler(event, context):") == 1
    packaged, modules = load_package(files)
    assert packaged is not answer.handler
    assert check_handler(packaged, modules).passed


def test_deploy_refuses_a_handler_that_fails_the_check_without_raising() -> None:
    skeleton = _load(REPO / "wildrydes_helpers" / "exercises" / "handler_skeleton.py", "sk2")
    shown = repr(deploy_my_handler(skeleton.handler))
    assert shown.startswith("Not deployed: your handler does not pass the check yet")
    assert "TODO 2" in shown


def test_deploy_refuses_a_handler_whose_package_needs_a_name_it_lacks() -> None:
    from decimal import Decimal

    def handler(event: dict, context: object) -> dict:
        return {"state": {"unicorns": {}, "d": str(Decimal(1))}}

    assert "Not deployed:" in repr(deploy_my_handler(handler))
    assert Decimal  # used in the handler, which only this module imports
