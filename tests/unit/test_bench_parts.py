"""The pure parts of the benchmarks and of the test and notebook tools."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import nbformat
import pytest

from benchmarks.bench_classroom_host import student_env
from benchmarks.bench_esm import direct_events
from benchmarks.bench_footprint import disk_usage_mb
from benchmarks.bench_notebooks import parse_rehearsal
from benchmarks.bench_runtime import init_duration_ms
from benchmarks.common import percentile
from wildrydes_helpers.run_lab import CellTime, LabRun, NotebookRun, cell_times

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import quiet_jupyterlab  # noqa: E402
import run_nbval  # noqa: E402
import run_tests  # noqa: E402


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([3.0], 0.99) == 3.0


def test_direct_events_are_the_mappings_batches_of_100() -> None:
    got = [{"SequenceNumber": str(i), "PartitionKey": "u", "Data": b'{"Distance": 1}',
            "ApproximateArrivalTimestamp": dt.datetime(2024, 5, 1, tzinfo=dt.UTC)}
           for i in range(250)]
    events = direct_events(got, "shardId-000000000000", "arn:s", "arn:r", ("s", "e"))
    assert [len(e["Records"]) for e in events] == [100, 100, 50]
    first = events[0]["Records"][0]
    assert first["eventID"] == "shardId-000000000000:0"
    assert json.loads(__import__("base64").b64decode(first["kinesis"]["data"])) == {
        "Distance": 1}
    assert events[2]["window"] == {"start": "s", "end": "e"}
    assert not events[0]["isFinalInvokeForWindow"]


def test_init_duration_is_read_from_the_report_line() -> None:
    tail = "START RequestId: r\nREPORT RequestId: r\tDuration: 3.1 ms\tInit Duration: 88.40 ms"
    assert init_duration_ms(tail) == 88.4
    assert init_duration_ms("START RequestId: r\n") is None


def test_each_student_has_own_home_port_prefix_and_no_shell_aws(tmp_path: Path) -> None:
    a = student_env({"AWS_SECRET_ACCESS_KEY": "x", "PATH": "/bin"}, tmp_path / "a", 4701, 1)
    b = student_env({"PATH": "/bin"}, tmp_path / "b", 4702, 2)
    assert a["WILDRYDES_HOME"] != b["WILDRYDES_HOME"]
    assert (a["WILDRYDES_LOCAL_PORT"], b["WILDRYDES_LOCAL_PORT"]) == ("4701", "4702")
    assert (a["WILDRYDES_PREFIX"], a["WILDRYDES_WINDOW_SECONDS"]) == ("s01", "10")
    assert "AWS_SECRET_ACCESS_KEY" not in a


def test_disk_usage_counts_a_hard_link_once(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 300_000)
    once = disk_usage_mb(tmp_path)
    (tmp_path / "g").hardlink_to(tmp_path / "f")
    assert disk_usage_mb(tmp_path) == once
    assert once >= 0.28


def test_rehearsal_output_is_parsed_per_notebook_and_cell() -> None:
    out = ("ok  00_introduction  (3.2 s, 2 plots)\nok  07_extra_credit_failures  (24.3 s, "
           "0 plots)\nthe 2 slowest code cells:\n  16.3 s  07_extra_credit_failures  cell 8  "
           "notes = []\n   8.6 s  04_monitor  cell 3  wait_for_producer()\n")
    parsed = parse_rehearsal(out)
    assert parsed["rehearsal_notebooks_s"] == {"00_introduction": 3.2,
                                               "07_extra_credit_failures": 24.3}
    assert parsed["rehearsal_slowest_cells"] == [
        "16.3 s 07_extra_credit_failures cell 8: notes = []",
        "8.6 s 04_monitor cell 3: wait_for_producer()"]


def _timed_cell(source: str, began: str | None, ended: str | None) -> nbformat.NotebookNode:
    execution = {k: v for k, v in (("iopub.execute_input", began),
                                   ("shell.execute_reply", ended)) if v}
    return nbformat.v4.new_code_cell(source, metadata={"execution": execution})


def test_cell_times_and_the_slowest_of_a_run() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 04"),
        _timed_cell("# wait\nwait_for_producer()", "2024-05-01T12:00:00.000Z",
                    "2024-05-01T12:00:08.600Z"),
        _timed_cell("x = 1", "2024-05-01T12:00:09.000Z", "2024-05-01T12:00:09.100Z"),
        _timed_cell("never ran", None, None),
    ])
    times = cell_times(nb, "04_monitor")
    assert times == [CellTime("04_monitor", 1, 8.6, "wait_for_producer()"),
                     CellTime("04_monitor", 2, 0.1, "x = 1")]
    run = LabRun([NotebookRun("04_monitor", 9.0, [], times),
                  NotebookRun("07", 20.0, [], [CellTime("07", 8, 16.3, "notes = []")])])
    assert [c.seconds for c in run.slowest(2)] == [16.3, 8.6]


def test_nbval_runs_at_the_labs_60_s_by_default() -> None:
    assert run_nbval.NOTEBOOK_WINDOW_SECONDS == 60
    assert run_nbval.parse_args([]) == (60, [])
    assert run_nbval.parse_args(["--window", "3", "-x", "--durations=5"]) == (
        3, ["-x", "--durations=5"])
    with pytest.raises(SystemExit):
        run_nbval.parse_args(["--window", "0"])


def test_make_test_runs_nbval_beside_pytest() -> None:
    assert run_tests.nbval_command(60)[1:] == [str(ROOT / "tools" / "run_nbval.py"),
                                               "--window", "60"]
    steps = [command for _, command, _ in run_tests.foreground_steps()]
    assert steps[-1][-1] == "tests"  # the whole pytest suite runs in the foreground
    assert not any(Path(arg).name == "run_nbval.py" for cmd in steps for arg in cmd[:2])
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/python tools/run_tests.py" in makefile


def test_execute_notebooks_saves_60_s_outputs_by_default() -> None:
    source = (ROOT / "tools" / "execute_notebooks.py").read_text()
    assert "default=NOTEBOOK_WINDOW_SECONDS" in source


def test_jupyterlab_quiet_settings_merge(tmp_path: Path) -> None:
    path = quiet_jupyterlab.overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "x"}}))
    assert quiet_jupyterlab.write_quiet(tmp_path) == path
    written = json.loads(path.read_text())
    assert written["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false", "checkForUpdates": False}
    assert written["@jupyterlab/apputils-extension:themes"] == {"theme": "x"}
