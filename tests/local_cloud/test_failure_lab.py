"""07's failure lab on the local cloud, through the same calls that work on AWS.

A failing version of the function (UpdateFunctionCode, no fault switch) loses exactly the
chosen unicorn's records, which reach the on-failure queue one by one after the batch was
split; a ReportBatchItemFailures version reports one record, and the mapping retries from it.
"""

from __future__ import annotations

import json
import time

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.extra_credit import room_in_window, wait_for_failure_records
from wildrydes_helpers.failure_lab import (
    batches_seen,
    deploy_failing_version,
    restore_function,
    run_partial_failure_demo,
    variant_files,
)
from wildrydes_helpers.failure_prediction import check_prediction, observed_facts
from wildrydes_helpers.function import function_configuration
from wildrydes_helpers.function_zip import build_zip, code_sha256, lambda_dir


def _lab(lab, prefix):
    s = prefixed(lab, prefix)
    for step in (wr.create_stream, wr.create_table, wr.create_role, wr.create_function):
        step(session=s)
    return s


def _mapping(s):
    lam = s.client("lambda")
    return lam.list_event_source_mappings(FunctionName=s.config.function_name)[
        "EventSourceMappings"][0]


def test_failing_version_loses_only_the_chosen_unicorn_and_reports_it(lab, tmp_path, capsys):
    s = _lab(lab, "fl1")
    w = s.config.window_seconds
    assert wait_for_failure_records(1, timeout=0, session=s) == []
    assert "cover 0 of 1 records" in capsys.readouterr().out
    deployed = deploy_failing_version(["Pegasus"], session=s)
    assert deployed.status == "deployed"
    conf = function_configuration(s, s.config.function_name)
    assert conf["CodeSha256"] == code_sha256(build_zip(files=variant_files(
        "failing", fail_for=["Pegasus"])))
    try:
        room_in_window(1.0, session=s)
        started = time.time() - 1
        ledger_path = tmp_path / "ledger.json"
        sent = wr.run_producer(["Pegasus", "Bucephalus"], rate=10.0, count=4, seed=11,
                               session=s, ledger_path=ledger_path)
        assert sent.failed == 0
        notes = wait_for_failure_records(4, timeout=60 + 4 * w, session=s)
    finally:
        assert restore_function(session=s).status == "restored"
    assert function_configuration(s, s.config.function_name)["CodeSha256"] == \
        code_sha256(build_zip())
    # Split down to the failing unicorn's single records; each is given up on its own.
    assert sorted(n["KinesisBatchInfo"]["batchSize"] for n in notes) == [1, 1, 1, 1]
    assert {n["requestContext"]["condition"] for n in notes} == {"RetryAttemptsExhausted"}
    assert {n["responseContext"]["functionError"] for n in notes} == {"Unhandled"}
    # The function saw the whole burst first, then halves: split before any retry of it.
    seen = batches_seen(since=started, session=s)
    sizes = seen[~seen["final"]]["records"].tolist()
    assert sizes[0] > 1 and sizes[1] <= (sizes[0] + 1) // 2, sizes  # a half, not the whole
    assert seen[~seen["final"]]["fails"].tolist()[0] is True
    # The other unicorn's records all reached the table; Pegasus's none.
    done = wr.wait_for_windows(expected={"Bucephalus": 4}, timeout=4 * w + 30, poll_s=0.5,
                               progress=False, session=s)
    assert done.complete, done.message
    assert wr.windows(name="Pegasus", session=s).empty
    # The predict-then-observe checker agrees with what was observed.
    facts = observed_facts(notes[0])
    assert check_prediction(dict(facts), notes[0]).all_correct
    assert not check_prediction(dict(facts, batchSize=8), notes[0]).all_correct
    wr.clean_up(session=s)


def test_partial_failure_demo_retries_from_the_reported_record(lab):
    s = _lab(lab, "fl2")
    report = run_partial_failure_demo("Zephyr", count=5, marked=2, session=s)
    print("\n" + report.summary())
    assert report.reported == report.sent[2]["sequenceNumber"]
    assert report.retried_from_reported
    first = report.batches[0]
    assert first["first"] == report.sent[0]["sequenceNumber"] and first["records"] == 5
    # Nothing lost, nothing counted twice: the state handed on with the report was kept.
    assert report.table is not None and report.table["records"] == 5
    assert round(report.table["distance"]) == round(sum(r["Distance"] for r in report.sent))
    # The demo put everything back.
    mapping = _mapping(s)
    assert mapping.get("FunctionResponseTypes", []) == []
    assert function_configuration(s, s.config.function_name)["CodeSha256"] == \
        code_sha256(build_zip())
    assert "retried from record 3, the reported record" in report.summary()
    wr.clean_up(session=s)


def test_variant_packages_carry_the_lab_code_unchanged():
    files = variant_files("failing", fail_for=["Pegasus", "Pegasus"])
    assert files["aggregator.py"] == (lambda_dir() / "index.py").read_bytes()
    assert json.loads(files["failure_lab.json"])["fail_for"] == ["Pegasus"]
