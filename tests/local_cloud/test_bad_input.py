"""Bad input everywhere gets one clear message and no traceback.

What other test files already cover is not repeated here (config values in test_config.py,
the producer's in-process checks in test_producer.py, unknown services in
test_local_cloud.py, invalid JSON to Invoke in test_runtime.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.errors import LedgerError, PrerequisiteError


def _wildrydes(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wildrydes_helpers", *args],
                          env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=60)


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wildrydes: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("argv, needle", [
    (["--rate", "-1"], "--rate -1"), (["--rate", "0"], "--rate 0"),
    (["--count", "0"], "--count 0"), (["--duration", "-3"], "--duration -3"),
    (["--duration", "nan"], "--duration nan"), (["--rate", "fast"], "--rate 'fast'"),
])
def test_produce_option_with_a_bad_value(argv, needle):
    _one_line_error(_wildrydes("produce", *argv), needle)


@pytest.mark.parametrize("var, value, needles", [
    ("WILDRYDES_WINDOW_SECONDS", "0", ("WILDRYDES_WINDOW_SECONDS=0", "1..900")),
    ("WILDRYDES_WINDOW_SECONDS", "901", ("WILDRYDES_WINDOW_SECONDS=901", "1..900")),
    ("WILDRYDES_BACKEND", "nope", ("WILDRYDES_BACKEND='nope'", "'local'", "'aws'")),
    ("WILDRYDES_PREFIX", "a b", ("WILDRYDES_PREFIX='a b'", "letters, digits")),
])
def test_produce_with_a_bad_setting(var, value, needles):
    _one_line_error(_wildrydes("produce", "--count", "1", "--quiet", **{var: value}), *needles)


def test_prefix_with_a_space_for_the_local_cloud_command():
    _one_line_error(_wildrydes("local", "status", WILDRYDES_PREFIX="a b"), "WILDRYDES_PREFIX")


# ---- helpers called out of order (each with its own prefix, so nothing exists yet)


def test_test_invoke_before_step_3_names_step_3(lab):
    s = prefixed(lab, "bad-noinv")
    with pytest.raises(PrerequisiteError, match="03_create_function") as err:
        wr.test_invoke(session=s)
    assert err.value.__cause__ is None


def test_start_producer_before_the_stream_names_step_00(lab):
    s = prefixed(lab, "bad-nostream")
    with pytest.raises(PrerequisiteError, match="00_introduction"):
        wr.start_producer(count=1, session=s)
    assert not wr.producer_status(session=s).running


def test_monitoring_before_anything_ran_names_the_steps(lab):
    s = prefixed(lab, "bad-nologs")
    for helper in (wr.log_events, wr.final_events, wr.invocations):
        with pytest.raises(PrerequisiteError, match="03_create_function") as err:
            helper(session=s)
        assert err.value.__cause__ is None


def test_waiting_without_a_ledger_says_to_run_the_producer(lab, tmp_path):
    with pytest.raises(LedgerError, match="Run the producer first"):
        wr.wait_for_windows(ledger=tmp_path / "none.json", timeout=1, progress=False,
                            session=lab)


@pytest.mark.parametrize("content", [
    "", "not json", "[]", '{"stream": "wildrydes"}',
    '{"stream": "s", "window_seconds": 2, "started_at": 0, "updated_at": 0, '
    '"unicorns": {"A": {"records": "many"}}}',
    '{"stream": "s", "window_seconds": 2, "started_at": 0, "updated_at": 0, '
    '"unicorns": {"A": {"colour": "pink"}}}',
])
def test_a_corrupt_ledger_gives_one_message(lab, tmp_path, content):
    path = tmp_path / "ledger.json"
    path.write_text(content)
    with pytest.raises(LedgerError, match="corrupt") as err:
        wr.wait_for_windows(ledger=path, timeout=1, progress=False, session=lab)
    assert str(path) in str(err.value) and err.value.__cause__ is None


# ---- malformed events sent to the lab's function through Invoke


@pytest.fixture(scope="module")
def function_lab(lab):
    s = prefixed(lab, "bad-fn")
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    yield s
    wr.clean_up(stop_producer=False, session=s)


@pytest.mark.parametrize("event, needle", [
    ([], "event must be a JSON object, got list"),
    ({"Records": "x"}, "event 'Records' must be a list, got str"),
    ("text", "event must be a JSON object, got str"),
    ({}, "no 'Records' list"),
    ({"Records": [], "state": [1]}, "'state' must be a JSON object"),
    ({"Records": [], "isFinalInvokeForWindow": True}, "final invocation without 'window'"),
])
def test_a_malformed_event_is_a_function_error_that_explains(function_lab, event, needle):
    lam = function_lab.client("lambda")
    resp = lam.invoke(FunctionName=function_lab.config.function_name,
                      Payload=json.dumps(event).encode())
    body = json.loads(resp["Payload"].read())
    assert resp["StatusCode"] == 200 and resp.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "ValueError" and needle in body["errorMessage"]
    after = wr.test_invoke(session=function_lab)  # the runtime is still fine
    assert after.ok and after.payload["state"]["unicorns"]["TestUnicorn"]["records"] == 2
