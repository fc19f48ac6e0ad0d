"""AWS's recorded answers (``tests/kit/aws_recorded/*.json``) and a shape comparison.

Each JSON file names, next to every answer, where it was recorded (repository, commit, path
and snapshot key, or AWS's documentation page). LocalStack's recorder replaces values that
change from run to run by placeholders such as ``<uuid:1>``; a placeholder matches a value of
any scalar type, and inside a message it matches any text.

Example
-------
>>> shape_differences({"a": 1, "b": "<uuid:1>"}, {"a": 2.5, "b": 7})
[]
>>> for line in shape_differences({"a": 1, "b": {"c": True}}, {"a": "1", "d": None}):
...     print(line)
a: AWS has a number, here a string
b: missing (AWS has it)
d: not in AWS's answer
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).parent / "aws_recorded"
_PLACEHOLDER = re.compile(r"<[^<>]+>")


@cache
def recorded(name: str) -> dict[str, Any]:
    """One file of recorded answers, e.g. ``recorded("esm_api_errors")``."""
    return json.loads((RECORDED / f"{name}.json").read_text())


def json_type(value: Any) -> str:
    """The JSON type of a value: object, array, string, number, boolean or null.

    Example
    -------
    >>> [json_type(v) for v in ({}, [], "", 1, 1.5, True, None)]
    ['object', 'array', 'string', 'number', 'number', 'boolean', 'null']
    """
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    return type(value).__name__  # a datetime that boto3 parsed, say


def is_placeholder(value: Any) -> bool:
    """True for a value LocalStack's recorder replaced, such as ``"<datetime>"``.

    Example
    -------
    >>> is_placeholder("<uuid:1>"), is_placeholder("shardId-0:<sequence-number:1>")
    (True, False)
    """
    return isinstance(value, str) and _PLACEHOLDER.fullmatch(value) is not None


def shape_differences(aws: Any, local: Any, path: str = "",
                      opaque: frozenset[str] = frozenset({"state"})) -> list[str]:
    """Where ``local`` differs from ``aws`` in keys or JSON types (not in values).

    Arrays are compared by their first elements, when both have one. Under a path in
    ``opaque`` (a window's ``state``: the function's own data) only the type is compared.
    """
    here = path or "(top)"
    if is_placeholder(aws):
        return [] if json_type(local) not in ("object", "array") else [
            f"{here}: AWS has a scalar, here {json_type(local)}"]
    if json_type(aws) != json_type(local):
        return [f"{here}: AWS has a {json_type(aws)}, here a {json_type(local)}"]
    out: list[str] = []
    if path in opaque:
        return out
    if isinstance(aws, dict):
        for key in aws:
            sub = f"{path}.{key}" if path else key
            if key not in local:
                out.append(f"{sub}: missing (AWS has it)")
            else:
                out.extend(shape_differences(aws[key], local[key], sub, opaque))
        out.extend(f"{f'{path}.{key}' if path else key}: not in AWS's answer"
                   for key in local if key not in aws)
    elif isinstance(aws, list) and aws and local:
        out.extend(shape_differences(aws[0], local[0], f"{path}[0]", opaque))
    return out


def message_pattern(recorded_message: str) -> re.Pattern[str]:
    """A regex matching AWS's message with its placeholders and account filled in anyhow.

    Example
    -------
    >>> bool(message_pattern("Stream not found: arn:<partition>:kinesis:<region>:111111111111:"
    ...     "stream/x").match("Stream not found: arn:aws:kinesis:us-east-1:123456789012:stream/x"))
    True
    """
    parts = _PLACEHOLDER.split(recorded_message)
    text = ".+?".join(re.escape(p) for p in parts)
    return re.compile(text.replace("111111111111", r"\d{12}"))
