"""Notebook 07's failure lab, on AWS and on the local cloud alike.

Instead of a switch that only the local cloud has, these helpers deploy *another version of
the function's code* (``lambda_variants/``), which Lambda runs like any other:

- :func:`deploy_failing_version`: every batch holding a record of a chosen unicorn fails;
- :func:`run_partial_failure_demo`: a version that reports one record as failed
  (``ReportBatchItemFailures``), a trigger that honours it, one burst of records, and what
  the mapping did (see :class:`PartialFailureReport`);
- :func:`restore_function`: the lab's own code back, and the trigger's response types off.

:func:`batches_seen` reads the ``Batch:`` lines the variants log, one per invocation.

Example
-------
>>> sorted(variant_files("failing", fail_for=["Pegasus"]))
['aggregator.py', 'failure_lab.json', 'index.py']
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import PrerequisiteError, WildRydesError
from .extra_credit import room_in_window
from .function import function_configuration, wait_mapping
from .function_zip import _folder_files, build_zip, code_sha256, lambda_dir
from .lab_step import lab_step
from .monitor import log_events, parse_line
from .session import LabSession, get_session
from .step_result import StepResult
from .stream import stream_arn
from .waiting import poll_until

NB_FAILURES = "07_extra_credit_failures"
VARIANTS = {"failing": "failing.py", "partial": "partial.py"}
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
FAIL_MARKER = "FailOnce"
SETTLE_TIMEOUT_S = 120.0
BATCH_COLUMNS = ["time", "shardId", "first", "last", "records", "final", "fails", "reports"]


def variants_dir() -> Path:
    """The variants' source folder: ``<repo>/lambda_variants`` beside ``<repo>/lambda``.

    Example
    -------
    >>> variants_dir().name
    'lambda_variants'
    """
    return lambda_dir().parent / "lambda_variants"


def variant_files(kind: str, *, fail_for: list[str] | tuple[str, ...] = (),
                  marker: str = FAIL_MARKER) -> dict[str, bytes]:
    """The files of a variant's package: its ``index.py``, the lab's code as ``aggregator.py``.

    Example
    -------
    >>> json.loads(variant_files("partial")["failure_lab.json"])
    {'fail_for': [], 'marker': 'FailOnce'}
    """
    if kind not in VARIANTS:
        raise WildRydesError(f"No function variant {kind!r}: choose one of "
                             f"{', '.join(sorted(VARIANTS))}.")
    files = {("aggregator.py" if name == "index.py" else name): data
             for name, data in _folder_files(lambda_dir()).items()}
    files["index.py"] = (variants_dir() / VARIANTS[kind]).read_bytes()
    settings = {"fail_for": sorted(set(fail_for)), "marker": marker}
    files["failure_lab.json"] = json.dumps(settings).encode()
    return files


def _wait_code(lab: LabSession, sha: str) -> dict[str, Any]:
    name = lab.config.function_name

    def settled() -> dict[str, Any] | None:
        conf = function_configuration(lab, name) or {}
        if conf.get("LastUpdateStatus") == "Failed":
            raise WildRydesError(f"Lambda could not update {name}: "
                                 f"{conf.get('LastUpdateStatusReason')}")
        done = conf.get("LastUpdateStatus", "Successful") == "Successful"
        return conf if done and conf.get("CodeSha256") == sha else None

    return poll_until(settled, SETTLE_TIMEOUT_S, what=f"the new code of {name}")


def _deploy(lab: LabSession, code: bytes) -> str:
    """Upload ``code`` unless the function already runs it; 'deployed' or 'up to date'."""
    name = lab.config.function_name
    conf = function_configuration(lab, name)
    if conf is None:
        raise WildRydesError(f"The function {name} does not exist yet: run 03_create_function "
                             "first.")
    sha = code_sha256(code)
    if conf.get("CodeSha256") == sha:
        return "up to date"
    poll_until(lambda: (function_configuration(lab, name) or {}).get(
        "LastUpdateStatus", "Successful") != "InProgress", SETTLE_TIMEOUT_S,
        what=f"the last update of {name} to finish")
    lab.client("lambda").update_function_code(FunctionName=name, ZipFile=code)
    _wait_code(lab, sha)
    return "deployed"


@lab_step(NB_FAILURES)
def deploy_failing_version(fail_for: list[str] | tuple[str, ...] = ("Pegasus",), *,
                           session: LabSession | None = None) -> StepResult:
    """Deploy the function's failing version: batches with ``fail_for``'s records fail.

    Works on AWS and on the local cloud (it is an ordinary UpdateFunctionCode). Put the
    lab's code back with :func:`restore_function`.

    Example
    -------
    >>> deploy_failing_version(["Pegasus"])      # doctest: +SKIP
    07_extra_credit_failures: deployed. WildRydesAggregator now fails for every batch ...
    """
    assert session is not None
    names = sorted(set(fail_for))
    if not names:
        raise WildRydesError("Name at least one unicorn whose records should make the "
                             "function fail, e.g. deploy_failing_version(['Pegasus']).")
    status = _deploy(session, build_zip(files=variant_files("failing", fail_for=names)))
    return StepResult(NB_FAILURES, status,
                      f"{session.config.function_name} now fails for every batch holding a "
                      f"record of {', '.join(names)}; other batches and final invocations "
                      "run the lab's code. restore_function() puts the lab's code back.",
                      {"fails for": ", ".join(names)})


def _mapping(lab: LabSession) -> dict[str, Any]:
    lam = lab.client("lambda")
    source = stream_arn(session=lab)
    pages = lam.get_paginator("list_event_source_mappings").paginate(
        FunctionName=lab.config.function_name, EventSourceArn=source)
    for page in pages:
        for mapping in page.get("EventSourceMappings", []):
            return dict(mapping)
    raise WildRydesError(f"{lab.config.function_name} has no Kinesis trigger: run "
                         "03_create_function first.")


def set_response_types(report_failures: bool, *, session: LabSession | None = None) -> str:
    """Turn the trigger's ReportBatchItemFailures on or off; 'updated' or 'up to date'.

    Example
    -------
    >>> set_response_types(False)         # doctest: +SKIP
    'up to date'
    """
    lab = get_session(session)
    mapping = _mapping(lab)
    want = [REPORT_BATCH_ITEM_FAILURES] if report_failures else []
    if sorted(mapping.get("FunctionResponseTypes") or []) == want:
        return "up to date"
    wait_mapping(lab, mapping["UUID"])  # AWS refuses an update while one is in progress
    lab.client("lambda").update_event_source_mapping(
        UUID=mapping["UUID"], FunctionName=lab.config.function_name,
        FunctionResponseTypes=want)
    poll_until(lambda: sorted(wait_mapping(lab, mapping["UUID"]).get(
        "FunctionResponseTypes") or []) == want, SETTLE_TIMEOUT_S,
        what="the trigger's new response types")
    return "updated"


@lab_step(NB_FAILURES)
def restore_function(*, session: LabSession | None = None) -> StepResult:
    """Put the lab's own code back and turn the trigger's ReportBatchItemFailures off.

    Example
    -------
    >>> restore_function()        # doctest: +SKIP
    07_extra_credit_failures: restored. WildRydesAggregator: the lab's code deployed again; ...
    """
    assert session is not None
    code = _deploy(session, build_zip())
    trigger = set_response_types(False, session=session)
    changed = code != "up to date" or trigger != "up to date"
    said_code = "the lab's code deployed again" if code != "up to date" else \
        "it already ran the lab's code"
    said_trigger = "ReportBatchItemFailures turned off" if trigger != "up to date" else \
        "ReportBatchItemFailures already off"
    return StepResult(NB_FAILURES, "restored" if changed else "up to date",
                      f"{session.config.function_name}: {said_code}; trigger: {said_trigger}.")


def batches_from_logs(df: pd.DataFrame) -> pd.DataFrame:
    """The ``Batch:`` lines of ``df`` as rows (pure: no AWS call), oldest first.

    Example
    -------
    >>> line = 'Batch: {"shardId": "s", "first": "1", "last": "4", "records": 4, "final": false}'
    >>> batches_from_logs(pd.DataFrame({"time": [0], "message": [line]}))["records"].tolist()
    [4]
    """
    rows = []
    for when, message in zip(df.get("time", []), df.get("message", []), strict=False):
        parsed = parse_line(str(message))
        if parsed is None or parsed[0] != "Batch":
            continue
        value = parsed[1]
        rows.append({"time": when, **{c: value.get(c) for c in BATCH_COLUMNS[1:]}})
    out = pd.DataFrame(rows, columns=BATCH_COLUMNS)
    # Plain dtypes, so ``seen[~seen["final"]]`` and sums work on an empty frame too.
    out["records"] = out["records"].fillna(0).astype(int)
    out["final"] = out["final"].fillna(False).astype(bool)
    return out


def batches_seen(since: Any = None, *, session: LabSession | None = None) -> pd.DataFrame:
    """One row per invocation of a deployed variant: shard, first/last sequence number, size.

    Example
    -------
    >>> batches_seen(since=started)["records"].tolist()   # doctest: +SKIP
    [8, 4, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 4, ...]
    """
    return batches_from_logs(log_events(since=since, filter_pattern='"Batch:"',
                                        session=session))


@dataclass
class PartialFailureReport:
    """What the mapping did with a reported failure (see :func:`run_partial_failure_demo`).

    ``batches`` are the non-final invocations after the burst; ``reported`` the sequence
    number the function named; ``retry_first`` the first record of the next invocation.
    """

    sent: list[dict[str, Any]]
    batches: list[dict[str, Any]]
    reported: str | None
    retry_first: str | None
    table: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def retried_from_reported(self) -> bool:
        """True when the invocation after the report began at the reported record."""
        return self.reported is not None and self.retry_first == self.reported

    def summary(self) -> str:
        """A few lines saying what happened, in the order it happened."""
        short = {r["sequenceNumber"]: f"record {i + 1}" for i, r in enumerate(self.sent)}
        lines = [f"sent {len(self.sent)} records in one burst; record "
                 f"{_marked_position(self.sent)} carries the marker"]
        for n, batch in enumerate(self.batches, 1):
            span = (f"{short.get(batch['first'], batch['first'])} to "
                    f"{short.get(batch['last'], batch['last'])}")
            line = f"invocation {n}: {batch['records']} records ({span})"
            if batch.get("reports"):
                line += f" -> the function reports {short.get(batch['reports'], '?')} as failed"
            lines.append(line)
        if self.reported is None:
            lines.append("no record was reported as failed (the marked record came first in "
                         "its batch); run the demo again")
        elif self.retried_from_reported:
            lines.append(f"the mapping retried from {short.get(self.reported, self.reported)}, "
                         "the reported record")
        else:
            lines.append("the next invocation did not start at the reported record")
        if self.table is not None:
            lines.append(f"table: {self.table['records']} records, "
                         f"{self.table['distance']:.0f} m for the window "
                         f"(sent: {len(self.sent)} records, "
                         f"{sum(r['Distance'] for r in self.sent):.0f} m)")
        lines += self.notes
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _marked_position(sent: list[dict[str, Any]]) -> str:
    marked = [i + 1 for i, r in enumerate(sent) if r.get(FAIL_MARKER)]
    return ", ".join(map(str, marked)) or "none"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def report_from_batches(sent: list[dict[str, Any]], batches: pd.DataFrame) -> PartialFailureReport:
    """Build the report from what was sent and the ``Batch:`` rows (pure: no AWS call).

    Example
    -------
    >>> sent = [{"sequenceNumber": s, "Distance": 30.0} for s in "123"]
    >>> rows = pd.DataFrame([{"first": "1", "last": "3", "records": 3, "final": False,
    ...                       "reports": "2"},
    ...                      {"first": "2", "last": "3", "records": 2, "final": False,
    ...                       "reports": None}])
    >>> report_from_batches(sent, rows).retried_from_reported
    True
    """
    ours = {r["sequenceNumber"] for r in sent}
    rows = [{k: (None if _missing(v) else v) for k, v in row.items()}
            for _, row in batches.iterrows()]
    mine = [row for row in rows
            if not row.get("final") and (row.get("first") in ours or row.get("last") in ours)]
    reported = next((b["reports"] for b in mine if b.get("reports")), None)
    retry_first = None
    if reported is not None:
        at = next(i for i, b in enumerate(mine) if b.get("reports") == reported)
        retry_first = mine[at + 1]["first"] if at + 1 < len(mine) else None
    return PartialFailureReport(sent=sent, batches=mine, reported=reported,
                                retry_first=retry_first)


def _burst(lab: LabSession, name: str, count: int, marked: int) -> list[dict[str, Any]]:
    """Put ``count`` records of ``name`` in one PutRecords call; record ``marked`` (0-based)
    carries the marker. Returns them with their sequence numbers."""
    now = time.time()
    items = [{"Name": name, "StatusTime": time.strftime("%Y-%m-%d %H:%M:%S",
                                                        time.gmtime(now + i * 0.01)),
              "Distance": 30.0 + i / 10} for i in range(count)]
    items[marked][FAIL_MARKER] = True
    answer = lab.client("kinesis").put_records(
        StreamName=lab.config.stream_name,
        Records=[{"Data": json.dumps(i).encode(), "PartitionKey": name} for i in items])
    if answer.get("FailedRecordCount"):
        raise WildRydesError("Kinesis refused some of the demo's records (throttled?): run "
                             "the demo again in a few seconds.")
    for item, result in zip(items, answer["Records"], strict=True):
        item["sequenceNumber"] = result["SequenceNumber"]
        item["shardId"] = result["ShardId"]
    return items


def _window_row(lab: LabSession, name: str) -> dict[str, Any] | None:
    from .query import windows  # late: query imports pandas helpers we do not always need
    table = windows(name=name, session=lab)
    if table.empty:
        return None
    row = table.sort_values("windowStart").iloc[-1]
    return {"windowStart": str(row["windowStart"]), "records": int(row["records"]),
            "distance": float(row["distance"])}


@lab_step(NB_FAILURES)
def run_partial_failure_demo(name: str = "Zephyr", count: int = 5, marked: int = 2,
                             timeout: float | None = None, *,
                             session: LabSession | None = None) -> PartialFailureReport:
    """Show ReportBatchItemFailures: one reported record, and the mapping retrying from it.

    Deploys the ``partial`` variant, turns ReportBatchItemFailures on, puts ``count``
    records of ``name`` in one burst (record ``marked``, 0-based, carries the marker), waits
    for the retry and the window's final write, then restores the lab's code and trigger.

    Example
    -------
    >>> print(run_partial_failure_demo().summary())      # doctest: +SKIP
    sent 5 records in one burst; record 3 carries the marker
    invocation 1: 5 records (record 1 to record 5) -> the function reports record 3 as failed
    invocation 2: 3 records (record 3 to record 5)
    the mapping retried from record 3, the reported record
    ...
    """
    lab = session
    assert lab is not None
    if not 0 < marked < count:
        raise WildRydesError("The marked record must not be the first of the burst: choose "
                             f"0 < marked < count (got marked={marked}, count={count}).")
    w = lab.config.window_seconds
    timeout = timeout if timeout is not None else 120.0 + 2 * w
    try:
        _deploy(lab, build_zip(files=variant_files("partial")))
        set_response_types(True, session=lab)
        room_in_window(min(2.0, w / 2), session=lab)  # the burst and its retry in one window
        started = time.time() - 1
        sent = _burst(lab, name, count, marked)

        def retried() -> PartialFailureReport | None:
            try:
                seen = batches_seen(since=started, session=lab)
            except PrerequisiteError:  # no log group before the function's first run
                return None
            report = report_from_batches(sent, seen)
            done = report.reported is not None and report.retry_first is not None
            covered = sum(b["records"] for b in report.batches) >= count
            return report if done or (report.reported is None and covered) else None

        report = poll_until(retried, timeout, interval=0.5,
                            what="the function's invocations after the burst")
    finally:
        restore_function(session=lab)
    window_end = (int(time.time() // w) + 1) * w
    try:
        report.table = poll_until(
            lambda: (row := _window_row(lab, name)) is not None and row["records"] >= count
            and row, max(timeout, window_end - time.time() + 60.0), interval=0.5,
            what=f"the window's total of {name} in the table")
    except WildRydesError as exc:
        report.notes.append(f"table: not written yet ({exc})")
    return report

