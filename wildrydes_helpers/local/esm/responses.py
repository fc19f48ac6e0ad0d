"""How an event source mapping reads the function's answer: success, failure, partial success.

Pure, like the processor that uses it (rules 8, 13 and 20 of docs/semantics.md).

Example
-------
>>> interpret(InvocationResult(b'{"state": {}}'), tumbling=True).ok
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InvocationResult:
    """What the function answered; the runtime's InvokeResult has the same fields."""

    payload: bytes = b"null"
    function_error: str | None = None
    status_code: int = 200
    request_id: str = ""


@dataclass(frozen=True)
class Outcome:
    """How the mapping reads a response: success, failure, or success up to ``failed_from``."""

    ok: bool
    state: dict[str, Any] | None = None
    state_json: str = "{}"
    failed_from: int | None = None  # index of the first failed record (partial success)
    reason: str = ""


def _item_failures(response: Any, seqs: list[int]) -> int | None | str:
    """Index of the lowest failed record, None if none failed, or a reason to fail all."""
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return "batchItemFailures is not a list"
    index = {str(s): i for i, s in enumerate(seqs)}
    lowest = len(seqs)
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if ident is None or str(ident) not in index:
            return f"batchItemFailures names an unknown itemIdentifier {ident!r}"
        lowest = min(lowest, index[str(ident)])
    return lowest


def interpret(result: Any, *, tumbling: bool, report_item_failures: bool = False,
              sequence_numbers: list[int] | None = None) -> Outcome:
    """Decide whether an invocation succeeded (rules 8, 13) and what it returned.

    Example
    -------
    >>> interpret(InvocationResult(b'{"state": {"n": 1}}'), tumbling=True).state
    {'n': 1}
    >>> interpret(InvocationResult(b'{"n": 1}'), tumbling=True).ok
    False
    """
    if result.function_error:
        return Outcome(False, reason=f"function error ({result.function_error})")
    if not 200 <= int(result.status_code) < 300:
        return Outcome(False, reason=f"status code {result.status_code}")
    if not tumbling and not report_item_failures:
        return Outcome(True)
    try:
        response = json.loads(result.payload or b"null")
    except ValueError:
        return Outcome(False, reason="the response is not JSON")
    state: dict[str, Any] | None = None
    state_json = "{}"
    if tumbling:
        if not isinstance(response, dict) or not isinstance(response.get("state"), dict):
            return Outcome(False, reason="the response is not a JSON object with a 'state' "
                                         "object (a tumbling-window function must return "
                                         "{'state': {...}})")
        state = response["state"]
        state_json = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    failed_from: int | None = None
    if report_item_failures:
        found = _item_failures(response, sequence_numbers or [])
        if isinstance(found, str):
            return Outcome(False, reason=found)
        failed_from = found
    return Outcome(True, state, state_json, failed_from)
