"""Notebook 04: the real events Lambda handed the function, read back from its logs.

The lab's function logs each event whole (``Event: {json}``) when its environment variable
``LOG_EVENTS`` is ``"1"`` (off by default, see ``lambda/index.py``). :func:`capture_events`
turns that on or off; :func:`real_events` picks, from the captured events, one batch
invocation and the final invocation of the same shard and window, with account ids masked.
It works the same on AWS and on the local cloud.

Example
-------
>>> pick_window_events([{"Records": [1], "shardId": "s", "window": {"start": "a"},
...                      "isFinalInvokeForWindow": False},
...                     {"Records": [], "shardId": "s", "window": {"start": "a"},
...                      "isFinalInvokeForWindow": True}])["final"]["Records"]
[]
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .errors import PrerequisiteError, WildRydesError
from .function import function_configuration
from .lab_step import lab_step
from .monitor import log_events, parse_line
from .notebook_names import NB_FUNCTION, NB_MONITOR
from .session import LabSession, mask_accounts
from .step_result import StepResult
from .waiting import poll_until

LOG_EVENTS_ENV = "LOG_EVENTS"  # the same name as in lambda/index.py
SETTLE_TIMEOUT_S = 120.0


@lab_step(NB_MONITOR)
def capture_events(on: bool = True, *, session: LabSession | None = None) -> StepResult:
    """Make the function log every event it receives (``on``), or stop it.

    Changes only the function's environment (``LOG_EVENTS``); re-running
    ``03_create_function`` also turns it off.

    Example
    -------
    >>> capture_events(True)            # doctest: +SKIP
    04_monitor: updated. WildRydesAggregator logs each event it receives ...
    """
    assert session is not None
    name = session.config.function_name
    conf = function_configuration(session, name)
    if conf is None:
        raise PrerequisiteError(f"The function {name} does not exist yet: run {NB_FUNCTION} "
                                "first.")
    variables = dict((conf.get("Environment") or {}).get("Variables") or {})
    was_on = variables.get(LOG_EVENTS_ENV) == "1"
    if on:
        variables[LOG_EVENTS_ENV] = "1"
    else:
        variables.pop(LOG_EVENTS_ENV, None)
    doing = "logs each event it receives" if on else "no longer logs its events"
    if was_on == on:
        return StepResult(NB_MONITOR, "up to date", f"{name} already {doing}.")
    lam = session.client("lambda")
    poll_until(lambda: (function_configuration(session, name) or {}).get(
        "LastUpdateStatus", "Successful") != "InProgress", SETTLE_TIMEOUT_S,
        what=f"the last update of {name} to finish")
    lam.update_function_configuration(FunctionName=name,
                                      Environment={"Variables": variables})

    def applied() -> bool:
        now = function_configuration(session, name) or {}
        have = ((now.get("Environment") or {}).get("Variables") or {}).get(LOG_EVENTS_ENV)
        return now.get("LastUpdateStatus", "Successful") == "Successful" and \
            (have == "1") == on

    poll_until(applied, SETTLE_TIMEOUT_S, what=f"the new environment of {name}")
    return StepResult(NB_MONITOR, "updated", f"{name} {doing} (environment variable "
                      f"{LOG_EVENTS_ENV}={'1' if on else 'unset'}).")


def events_from_logs(messages: Any) -> list[dict[str, Any]]:
    """The events in ``Event: {json}`` log lines, oldest first, account ids masked.

    Example
    -------
    >>> events_from_logs(['Event: {"Records": [], "eventSourceARN": '
    ...                   '"arn:aws:kinesis:us-east-1:123456789012:stream/s"}'])
    [{'Records': [], 'eventSourceARN': 'arn:aws:kinesis:us-east-1:********9012:stream/s'}]
    """
    found = []
    for message in messages:
        parsed = parse_line(mask_accounts(str(message)))
        if parsed is not None and parsed[0] == "Event":
            found.append(parsed[1])
    return found


def captured_events(since: Any = None, *, session: LabSession | None = None
                    ) -> list[dict[str, Any]]:
    """Every event the function logged since ``since`` (see :func:`capture_events`).

    Example
    -------
    >>> len(captured_events(since=started))     # doctest: +SKIP
    7
    """
    logs = log_events(since=since, filter_pattern='"Event:"', session=session)
    return events_from_logs(logs["message"])


def _window_key(event: dict[str, Any]) -> tuple[Any, Any]:
    return event.get("shardId"), (event.get("window") or {}).get("start")


def pick_window_events(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """A batch event and the final event of the same shard and window, or None.

    The first window that has both is chosen; its batch event is the window's first.
    """
    finals = {_window_key(e): e for e in events if e.get("isFinalInvokeForWindow")}
    for event in events:
        key = _window_key(event)
        if not event.get("isFinalInvokeForWindow") and event.get("Records") and key in finals:
            return {"batch": event, "final": finals[key]}
    return None


def real_events(since: Any = None, *, session: LabSession | None = None
                ) -> dict[str, dict[str, Any]]:
    """One real batch event and the final event of its window, as JSON-able dicts.

    Needs :func:`capture_events` on while the records flow, and a window that has closed.

    Example
    -------
    >>> events = real_events(since=started)          # doctest: +SKIP
    >>> events["final"]["isFinalInvokeForWindow"]    # doctest: +SKIP
    True
    """
    try:
        events = captured_events(since=since, session=session)
    except PrerequisiteError:
        events = []
    pair = pick_window_events(events)
    if pair is None:
        raise WildRydesError(
            f"No captured window yet ({len(events)} event(s) logged). Turn the capture on "
            "with capture_events(True) before the producer starts, and wait until a window "
            "has closed (wait_for_windows()).")
    return pair


def event_json(event: dict[str, Any], max_records: int = 2) -> str:
    """``event`` as indented JSON, with at most ``max_records`` records shown.

    Example
    -------
    >>> print(event_json({"Records": [1, 2, 3], "state": {}}, max_records=1))
    {
      "Records": [
        1,
        "... 2 more records"
      ],
      "state": {}
    }
    """
    shown = dict(event)
    records = list(event.get("Records") or [])
    if len(records) > max_records:
        more = len(records) - max_records
        shown["Records"] = records[:max_records] + [
            f"... {more} more record{'s' if more > 1 else ''}"]
    return json.dumps(shown, indent=2)


def record_data(record: dict[str, Any]) -> Any:
    """The JSON a unicorn sent, from a record of an event (its base64 ``kinesis.data``).

    Example
    -------
    >>> record_data({"kinesis": {"data": base64.b64encode(b'{"Name": "Shadowfax"}').decode()}})
    {'Name': 'Shadowfax'}
    """
    return json.loads(base64.b64decode(record["kinesis"]["data"]))
