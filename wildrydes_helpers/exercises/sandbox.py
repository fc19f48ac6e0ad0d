"""Run a student's handler offline: DynamoDB writes are recorded, never sent anywhere.

The handler may write through ``lab_tools.write_window``, a module-level table, or boto3
itself; each of those names is swapped for a recorder while the check runs, then restored.
Its printed log lines are captured so that the checker's own verdict stays readable.

Example
-------
>>> def handler(event, context):
...     write_window({"window": {"start": "a", "end": "b"}}, {"unicorns": {"x": {
...         "distance": 1.5, "records": 1}}})
...     return {"state": {}}
>>> from wildrydes_helpers.exercises.lab_tools import write_window
>>> run = run_handler(handler, {"Records": []})
>>> run.value, [(w.item["name"], int(w.item["distance"])) for w in run.writes]
({'state': {}}, [('x', 2)])
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from . import lab_tools

TABLE_NAME = "UnicornAggregation"


@dataclass
class Write:
    """One item the handler put, or another table call it made (``call`` names it)."""

    table: str
    item: dict[str, Any]
    call: str = "put_item"


@dataclass
class Run:
    """One invocation of the handler: what it returned or raised, and what it wrote."""

    value: Any = None
    error: BaseException | None = None
    error_line: int | None = None
    writes: list[Write] = field(default_factory=list)
    output: str = ""


class _Table:
    def __init__(self, name: str, writes: list[Write]) -> None:
        self.name, self._writes = name, writes

    def put_item(self, Item: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self._writes.append(Write(self.name, dict(Item)))
        return {}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self._writes.append(Write(self.name, dict(kwargs.get("Key") or {}), "update_item"))
        return {}

    @contextlib.contextmanager
    def batch_writer(self, **_: Any) -> Iterator[_Table]:
        yield self


def _plain(value: dict[str, Any]) -> Any:
    """A low-level DynamoDB value ({"N": "3"}) as a plain one."""
    (kind, raw), = value.items()
    return float(raw) if kind == "N" else raw


class _Client:
    def __init__(self, writes: list[Write]) -> None:
        self._writes = writes

    def put_item(self, TableName: str, Item: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self._writes.append(Write(TableName, {k: _plain(v) for k, v in Item.items()}))
        return {}


class _Resource:
    def __init__(self, writes: list[Write]) -> None:
        self._writes = writes

    def Table(self, name: str) -> _Table:  # noqa: N802  (boto3's own spelling)
        return _Table(name, self._writes)


class _Boto3:
    """Stands in for the boto3 module: only DynamoDB, only recording."""

    def __init__(self, writes: list[Write]) -> None:
        self._writes = writes

    def resource(self, service: str, *_: Any, **__: Any) -> _Resource:
        return _Resource(self._writes)

    def client(self, service: str, *_: Any, **__: Any) -> _Client:
        return _Client(self._writes)


def _replacements(writes: list[Write]) -> dict[str, Any]:
    return {"boto3": _Boto3(writes), "DYNAMODB": _Resource(writes), "_TABLES": {},
            "_table": lambda name: _Table(name, writes)}


@contextlib.contextmanager
def recording(namespaces: list[dict[str, Any]], writes: list[Write]) -> Iterator[None]:
    """Swap boto3 and table names in each namespace for recorders; restore them after."""
    saved: list[tuple[dict[str, Any], str, Any]] = []
    old_env = os.environ.get("TABLE_NAME")
    try:
        for ns in namespaces:
            for name, fake in _replacements(writes).items():
                if name in ns:
                    saved.append((ns, name, ns[name]))
                    ns[name] = fake
        os.environ["TABLE_NAME"] = TABLE_NAME
        yield
    finally:
        for ns, name, value in reversed(saved):
            ns[name] = value
        if old_env is None:
            os.environ.pop("TABLE_NAME", None)
        else:
            os.environ["TABLE_NAME"] = old_env


def _namespaces(handler: Callable[..., Any], extra: list[ModuleType]) -> list[dict[str, Any]]:
    spaces = [getattr(handler, "__globals__", {}), vars(lab_tools)]
    spaces += [vars(m) for m in extra]
    unique: list[dict[str, Any]] = []
    for ns in spaces:
        if not any(ns is u for u in unique):
            unique.append(ns)
    return unique


def _line_in_handler(handler: Callable[..., Any], exc: BaseException) -> int | None:
    code = getattr(handler, "__code__", None)
    if code is None:
        return None
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if f.filename == code.co_filename and f.lineno is not None]
    return lines[-1] - code.co_firstlineno + 1 if lines else None


def run_handler(handler: Callable[..., Any], event: dict[str, Any],
                modules: list[ModuleType] | None = None) -> Run:
    """Invoke ``handler(event, None)`` with writes recorded; never raises (errors are kept)."""
    run = Run()
    out = io.StringIO()
    with recording(_namespaces(handler, modules or []), run.writes), \
            contextlib.redirect_stdout(out):
        try:
            value = handler(event, None)
            # A copy as it was: a state kept in a global changes under later invocations.
            try:
                run.value = copy.deepcopy(value)
            except Exception:  # not copyable: the shape check will say what is wrong
                run.value = value
        except Exception as exc:  # the student's error is the check's finding, not ours
            run.error = exc
            run.error_line = _line_in_handler(handler, exc)
    run.output = out.getvalue()
    return run
