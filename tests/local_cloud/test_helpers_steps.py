"""@lab_step's messages, clean-up on the local cloud, and the test invocation."""

from __future__ import annotations

import dataclasses

import pytest

import wildrydes_helpers as wr
from tests.kit.helpers_kit import prefixed
from wildrydes_helpers.errors import LocalCloudError, PrerequisiteError
from wildrydes_helpers.lab_step import lab_step
from wildrydes_helpers.session import LabSession
from wildrydes_helpers.step_result import StepResult
from wildrydes_helpers.tags import lab_tags


def test_a_local_cloud_that_does_not_answer_says_how_to_start_it(lab, free_port):
    cfg = dataclasses.replace(lab.config, local_port=free_port)
    dead = LabSession(cfg, lab.boto, endpoint=f"http://127.0.0.1:{free_port}",
                      account_id=lab.account_id, boot_id=None)
    with pytest.raises(LocalCloudError, match="wildrydes local start") as err:
        wr.create_table(session=dead)
    assert err.value.__cause__ is None  # no botocore traceback chained for the student


def test_a_restarted_local_cloud_says_to_run_the_notebooks_again(lab):
    stale = prefixed(lab, "hstale")
    stale.boot_id = "a-local-cloud-that-no-longer-runs"
    with pytest.raises(PrerequisiteError, match="restarted") as err:
        wr.create_role(session=stale)
    assert "00_introduction" in str(err.value)


def test_a_missing_resource_names_its_step(lab):
    @lab_step("05_query")
    def read_missing(*, session=None):
        return session.client("kinesis").describe_stream_summary(StreamName="hs-missing")

    with pytest.raises(PrerequisiteError, match="00_introduction"):
        read_missing(session=lab)


def test_step_results_carry_their_calls(lab):
    result = wr.create_stream(session=prefixed(lab, "hcalls"))
    assert isinstance(result, StepResult) and result.calls
    assert "kinesis.DescribeStreamSummary" in result.show_calls()
    assert "<table>" in result._repr_html_()


def test_clean_up_on_the_local_cloud_is_idempotent_and_prefix_aware(lab):
    s, other = prefixed(lab, "hclean"), prefixed(lab, "hkeep")
    for step in (wr.create_stream, wr.create_table, wr.create_role):
        step(session=s)
    wr.create_table(session=other)
    s.client("sqs").create_queue(QueueName=s.config.failure_queue_name,
                                 tags=lab_tags(s.config))
    first = wr.clean_up(session=s)
    assert first.status == "deleted"
    for what in ("role hclean-unicorn-aggregation-role", "table hclean-UnicornAggregation",
                 "stream hclean-wildrydes", "queue hclean-wildrydes-aggregator-failures",
                 "policy hclean-unicorn-aggregation-ddb-write-policy"):
        assert what in first.details["deleted"]
    assert wr.clean_up(session=s).status == "nothing to delete"
    assert other.config.table_name in other.client("dynamodb").list_tables()["TableNames"]
    assert wr.table_arn(session=other)


def test_test_invoke_runs_the_handler_without_writing(lab):
    s = prefixed(lab, "hinv")
    for step in (wr.create_stream, wr.create_table, wr.create_role):
        step(session=s)
    created = wr.create_function(session=s)
    assert created.status == "created"
    assert wr.create_function(session=s).status == "up to date"
    result = wr.test_invoke(session=s)
    assert result.ok, result
    assert result.payload["state"]["unicorns"]["TestUnicorn"] == {"distance": 60.0,
                                                                  "records": 2}
    assert "Adding" in result.log_tail
    assert wr.windows(session=s).empty  # not final: nothing written
    wr.clean_up(session=s)
