"""Notebook 07's exercise: predict the failure record, then compare it with the real one.

The student fills in :func:`blank_prediction` before the failing version runs; afterwards
:func:`check_prediction` compares each field with the failure record Lambda sent to the
on-failure queue and explains every difference in plain words. It never raises: an
unfinished prediction gets a hint, so Run All stays green.

Example
-------
>>> record = {"requestContext": {"condition": "RetryAttemptsExhausted"},
...           "responseContext": {"functionError": "Unhandled"},
...           "KinesisBatchInfo": {"batchSize": 1, "shardId": "shardId-000000000000"}}
>>> check_prediction(observed_facts(record), record).all_correct
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What each field means, and why it has the value it has: AWS's own words where AWS says it.
EXPLAIN = {
    "condition": (
        "Why Lambda gave up. RetryAttemptsExhausted: the function kept failing until the "
        "trigger's retries (MaximumRetryAttempts = 2) were used up. (Records older than "
        "MaximumRecordAgeInSeconds are given up too, for their age.)"),
    "batchSize": (
        "How many records were given up together. With BisectBatchOnFunctionError, Lambda "
        "splits a failed batch into two before retrying, and \"splitting batches doesn't "
        "consume the retry quota\" (AWS). Only batches holding Pegasus's records fail, so the "
        "halves are split again until each failing batch holds one record: the other "
        "unicorn's records get through."),
    "functionError": (
        "How the function failed. Unhandled: the handler raised an exception it did not "
        "catch (a timeout or a crash is Unhandled too)."),
    "contains_record_data": (
        "Whether the failure record carries the records themselves. It does not: AWS says "
        "\"The actual records aren't included\". It gives the shard and the first and last "
        "sequence numbers, so you can read the records from the stream while it keeps them."),
    "shardId": (
        "Which shard the records came from. The stream has one shard; with more, a unicorn's "
        "records all go to the shard its partition key (its name) maps to."),
}
FIELDS = tuple(EXPLAIN)


def blank_prediction() -> dict[str, Any]:
    """The prediction to fill in: every value ``...`` (not filled in yet).

    Example
    -------
    >>> sorted(blank_prediction())
    ['batchSize', 'condition', 'contains_record_data', 'functionError', 'shardId']
    """
    return {name: ... for name in FIELDS}


def observed_facts(record: dict[str, Any]) -> dict[str, Any]:
    """The five predicted fields, read from a failure record as Lambda sends it.

    Example
    -------
    >>> observed_facts({"KinesisBatchInfo": {"batchSize": 2}})["batchSize"]
    2
    """
    request = record.get("requestContext") or {}
    response = record.get("responseContext") or {}
    batch = record.get("KinesisBatchInfo") or {}
    data_keys = {"Records", "records", "data", "Data"}
    return {
        "condition": request.get("condition"),
        "batchSize": batch.get("batchSize"),
        "functionError": response.get("functionError"),
        "contains_record_data": bool(data_keys & (set(record) | set(batch))),
        "shardId": batch.get("shardId"),
    }


def _same(predicted: Any, observed: Any) -> bool:
    if isinstance(observed, bool) or isinstance(predicted, bool):
        return predicted is observed
    if isinstance(observed, int):
        try:
            return int(predicted) == observed and not isinstance(predicted, str)
        except (TypeError, ValueError):
            return False
    return str(predicted).strip().lower() == str(observed).strip().lower()


@dataclass
class PredictionCheck:
    """The field-by-field comparison; ``repr`` is what the notebook prints."""

    lines: list[str] = field(default_factory=list)
    correct: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def all_correct(self) -> bool:
        return not self.wrong and not self.missing and len(self.correct) == len(FIELDS)

    def __repr__(self) -> str:
        return "\n".join(self.lines)


def check_prediction(prediction: Any, record: dict[str, Any] | None) -> PredictionCheck:
    """Compare a prediction with the observed failure record; explain each field.

    Never raises. Without a record (the failing run was not made yet) or with fields still
    ``...``, it says what to do next.

    Example
    -------
    >>> check_prediction(blank_prediction(), None).lines[0]
    'No failure record observed yet: run the cells of part 2 first, then check again.'
    """
    check = PredictionCheck()
    if not isinstance(prediction, dict):
        check.lines.append("Your prediction should be a dict like blank_prediction() returns, "
                           "e.g. {'condition': '...', 'batchSize': 1, ...}.")
        check.missing = list(FIELDS)
        return check
    if record is None:
        check.lines.append("No failure record observed yet: run the cells of part 2 first, "
                           "then check again.")
        check.missing = [f for f in FIELDS if prediction.get(f, ...) is ...]
        return check
    observed = observed_facts(record)
    for name in FIELDS:
        guess = prediction.get(name, ...)
        seen = observed[name]
        if guess is ...:
            check.missing.append(name)
            check.lines.append(f"[ ] {name}: not predicted yet (replace the ... with your "
                               "guess). Hint: " + EXPLAIN[name].split(". ")[0] + ".")
        elif _same(guess, seen):
            check.correct.append(name)
            check.lines.append(f"[ok] {name}: {seen!r}, as you predicted. {EXPLAIN[name]}")
        else:
            check.wrong.append(name)
            check.lines.append(f"[x] {name}: you predicted {guess!r}, Lambda sent {seen!r}. "
                               f"{EXPLAIN[name]}")
    extra = sorted(set(prediction) - set(FIELDS))
    if extra:
        check.lines.append(f"(not compared: {', '.join(extra)})")
    if check.all_correct:
        check.lines.append("All five right.")
    else:
        check.lines.append(f"{len(check.correct)} of {len(FIELDS)} right.")
    return check
