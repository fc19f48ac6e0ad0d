"""03's checker: run the student's handler on a recorded window and say what differs.

The window (``window_events``) has two batch invocations and the final one. The checker
invokes the handler as Lambda would, each time with the state the reference function
returned before, records what it writes (nothing leaves the kernel) and explains the first
difference of each part in plain words: distance replaced instead of added, state not
carried from the previous invocation, records counted twice, totals kept in a global,
writing before the final call, or nothing written at the final call.

Example
-------
>>> def handler(event, context):
...     return {"state": {"unicorns": {}}}
>>> report = check_handler(handler)
>>> report.passed, report.hints[0][:50]
(False, "batch 1: the state has no unicorn's distance after")
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .report import ExerciseReport
from .sandbox import Run, run_handler
from .window_events import BATCH_1, BATCH_2, STATE_AFTER_1, STATE_AFTER_2, WINDOW, WRITTEN
from .window_events import window_events as recorded_window

TITLE = "Exercise 03: your handler on a recorded window (2 batches, then the final call)"
SOLVED = ("Solved: your handler aggregates like the lab's function. To run it on the real "
          "stream: deploy_my_handler(handler). To go back: deploy_reference_handler().")
UNSOLVED = ("Not solved yet: change your handler as the hint says, run its cell, then run this "
            "check again.")

Totals = dict[str, tuple[float, int]]


def _m(x: float) -> str:
    return f"{x:g} m"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-6)


def _same(got: Totals, want: Totals) -> bool:
    return got.keys() == want.keys() and all(
        _close(got[n][0], want[n][0]) and got[n][1] == want[n][1] for n in want)


def _as_totals(state: dict[str, Any]) -> Totals:
    return {n: (float(t["distance"]), int(t["records"])) for n, t in state["unicorns"].items()}


def _batch_totals(batch: list[tuple[int, str | None, float | None]]) -> Totals:
    out: dict[str, tuple[float, int]] = {}
    for _, name, distance in batch:
        if name is not None and distance is not None:
            d, r = out.get(name, (0.0, 0))
            out[name] = (d + distance, r + 1)
    return out


def _error_hint(label: str, run: Run) -> str:
    exc = run.error
    where = f" at line {run.error_line} of your handler" if run.error_line else ""
    text = f"{label}: your handler raised {type(exc).__name__}: {exc}{where}."
    if label.startswith("batch 2") and isinstance(exc, ValueError):
        text += (" Batch 2 holds one broken record, as a real stream may: skip what cannot be "
                 "read (read_batch(event['Records']) does it for you) instead of failing the "
                 "whole batch.")
    elif isinstance(exc, KeyError) and "unicorns" in str(exc):
        text += " The state starts empty ({}): create state['unicorns'] before using it."
    else:
        text += " Fix that line, run the handler's cell, then run this check again."
    return text


def _shape_hint(label: str, run: Run) -> str | None:
    value = run.value
    if not isinstance(value, dict) or not isinstance(value.get("state"), dict):
        return (f"{label}: your handler returned {value!r}. Lambda hands the next invocation "
                "only what you return as {'state': ...}: end with return {'state': state}.")
    unicorns = value["state"].get("unicorns")
    ok = isinstance(unicorns, dict) and all(
        isinstance(t, dict) and isinstance(t.get("distance"), int | float)
        and isinstance(t.get("records"), int) for t in unicorns.values())
    if not ok:
        return (f"{label}: the state should look like {{'unicorns': {{'Shadowfax': "
                f"{{'distance': 59.5, 'records': 2}}}}}}, one entry per unicorn (write_window "
                f"reads it so); yours is {value['state']!r}.")
    return None


def _diagnose(label: str, got: Totals, prior: Totals, batch: list[Any],
              want: Totals) -> str | None:
    """The first way ``got`` differs from ``want``, in words; None when they agree."""
    if _same(got, want):
        return None
    count = sum(1 for _, name, _ in batch if name is not None)
    if all(d == 0 and r == 0 for d, r in got.values()):  # also when there is no unicorn
        return (f"{label}: the state has no unicorn's distance after {count} records. Add "
                "each record's distance, and 1 record, to its unicorn's totals (TODO 2).")
    step = _batch_totals(batch)
    if prior and _same(got, step):
        first = sorted(step)[0]
        return (f"{label}: the state holds only this batch's records ({first}: "
                f"{_m(step[first][0])}, {step[first][1]} record(s)), so the totals of the "
                "batches before are lost: the state was not carried over. Start from the "
                "state Lambda hands in, state = event.get('state') or {}, not from {} (TODO 1).")
    extra = sorted(set(got) - set(want))
    if extra:
        return (f"{label}: the state has {extra} where only unicorn names belong: keep one "
                "entry per unicorn, keyed by the record's Name.")
    every = sum(d for d, _ in step.values())
    for name in sorted(want):
        if name not in got:
            return f"{label}: {name} is missing from the state: add every unicorn's records."
        (gd, gr), (wd, wr) = got[name], want[name]
        if _close(gd, wd) and gr == wr:
            continue
        pd, pr = prior.get(name, (0.0, 0))
        last = [d for _, n, d in batch if n == name][-1]
        if _close(gd, pd + 2 * step[name][0]) or gr == pr + 2 * step[name][1]:
            return (f"{label}: {name} has {_m(gd)} in {gr} records, but the batch and the "
                    f"state before add up to {_m(wd)} in {wr}: its records were counted twice. "
                    "Add each record once.")
        if _close(gd, wd):
            return (f"{label}: {name}'s distance is right ({_m(wd)}) but it has {gr} records "
                    f"instead of {wr}: add 1 to 'records' for each of its records.")
        if _close(gd, pd + last) or (_close(gd, last) and step[name][1] > 1):
            return (f"{label}: {name} has {_m(gd)}, the distance of its last record only, "
                    f"instead of {_m(wd)}: add each record's distance to the total "
                    "(total + distance) instead of replacing it.")
        if _close(gd, pd + every) and not _close(every, step[name][0]):
            return (f"{label}: {name} has {_m(gd)}, the whole batch's distance, instead of "
                    f"{_m(wd)}: add a record only to its own unicorn, unicorns[name].")
        return (f"{label}: {name} has {_m(gd)} in {gr} records; expected {_m(wd)} in {wr} "
                f"(the state before: {_m(pd)} in {pr}, plus this batch's "
                f"{_m(step[name][0])} in {step[name][1]}).")
    return None


def _batch_check(label: str, run: Run, prior: Totals, batch: list[Any],
                 want: Totals) -> tuple[str, str]:
    if run.error is not None:
        return "hint", _error_hint(label, run)
    shape = _shape_hint(label, run)
    if shape:
        return "hint", shape
    found = _diagnose(label, _as_totals(run.value["state"]), prior, batch, want)
    if found:
        return "hint", found
    names = ", ".join(f"{n} {_m(d)} in {r}" for n, (d, r) in sorted(want.items()))
    return "ok", f"{label}: the state holds {names} records"


def _final_check(run: Run, early: list[Run]) -> tuple[str, str]:
    if any(r.writes for r in early):
        return "hint", ("a batch that was not the window's last wrote to the table. Write only "
                        "when event['isFinalInvokeForWindow'] is true, else each batch puts a "
                        "partial total in the table.")
    if run.error is not None:
        return "hint", _error_hint("final call", run)
    if not run.writes:
        return "hint", ("final call: nothing was written to the table. On the window's final "
                        "invocation (isFinalInvokeForWindow is true), call "
                        "write_window(event, state) (TODO 3).")
    if any(w.call != "put_item" for w in run.writes):
        return "hint", ("final call: this check follows put_item only; write the totals with "
                        "write_window(event, state).")
    written = {str(w.item.get("name")): w.item for w in run.writes}
    for name, (distance, records) in sorted(WRITTEN.items()):
        item = written.get(name)
        if item is None:
            return "hint", f"final call: no item was written for {name}: write every unicorn."
        if str(item.get("windowStart")) != WINDOW["start"]:
            return "hint", (f"final call: {name}'s item has windowStart "
                            f"{item.get('windowStart')!r}; the table's key needs the window's "
                            "start, event['window']['start'].")
        state_d = STATE_AFTER_2["unicorns"][name]["distance"]
        if abs(float(item.get("distance", -1)) - state_d) > 0.5 or \
                int(float(item.get("records", -1))) != records:
            return "hint", (f"final call: {name} was written with {item.get('distance')} m in "
                            f"{item.get('records')} records; the state handed in says "
                            f"{_m(state_d)} in {records} ({distance} in whole metres). Write "
                            "the state's totals: write_window(event, state).")
    return "ok", ("final call: one item per unicorn written, with the window's totals "
                  f"({', '.join(f'{n} {d} m' for n, (d, _) in sorted(WRITTEN.items()))})")


def check_handler(handler: Callable[..., Any],
                  modules: list[ModuleType] | None = None) -> ExerciseReport:
    """Run ``handler`` on the recorded window and explain what differs; never raises.

    ``modules``: further modules whose boto3 or table names the handler writes through
    (a deployed package's own ``lab_tools``).

    Example
    -------
    >>> check_handler(None).hints
    ['Pass your function itself: check_handler(handler), without quotes or brackets after it.']
    """
    report = ExerciseReport(TITLE, solved=SOLVED, unsolved=UNSOLVED)
    if not callable(handler):
        report.checks.append(("hint", "Pass your function itself: check_handler(handler), "
                                      "without quotes or brackets after it."))
        return report
    first, second, final = recorded_window()
    run1 = run_handler(handler, first, modules)
    run1_again = run_handler(handler, recorded_window()[0], modules)
    run2 = run_handler(handler, second, modules)
    run3 = run_handler(handler, final, modules)
    want1, want2 = _as_totals(STATE_AFTER_1), _as_totals(STATE_AFTER_2)
    kind1, text1 = _batch_check("batch 1", run1, {}, BATCH_1, want1)
    report.checks.append((kind1, text1))
    if kind1 == "ok" and (run1_again.error is not None or run1_again.value != run1.value):
        report.checks.append(("hint", (
            "batch 1 run twice gave two different states: your handler keeps totals between "
            "invocations (in a global variable?). Lambda may run invocations in different "
            "environments and reuses one for other windows: keep totals only in the state.")))
    elif kind1 == "ok":
        report.checks.append(_batch_check("batch 2", run2, want1, BATCH_2, want2))
    else:
        report.checks.append(("wait", "batch 2: checked once batch 1 is right."))
    report.checks.append(_final_check(run3, [run1, run2]))
    return report
