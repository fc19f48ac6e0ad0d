"""One boto3 call written out in full, as a notebook's "under the hood" shows it.

Nothing is cut: a short call stays on one line; a long one gets one parameter a line, a JSON
document (an IAM policy) is pretty-printed as the ``json.dumps({...})`` that would build it,
and a long dict or list (a key schema, a trigger's destination) is folded, one item a line.
Account ids are masked and secret-looking values are hidden.

Example
-------
>>> print(format_call("iam", "GetRole", {"RoleName": "r"}))
iam.GetRole(RoleName='r')
"""

from __future__ import annotations

import json
import re
from typing import Any

from .session import mask_accounts

WIDTH = 100  # characters: a JupyterLab output at 1366x768 with the file browser open
INDENT = "    "

# Parameter names whose values are secrets: shown as '****' (the name says what it was).
_SECRET_KEY = re.compile(r"(?i)(secret|password|session_?token|access_?key)")
# An access key id anywhere in a value (AKIA... long-term, ASIA... temporary).
_ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")


def hide_secrets(value: Any, key: str = "") -> Any:
    """``value`` with every secret-named entry replaced by ``'****'`` (nested dicts too).

    Example
    -------
    >>> hide_secrets({"Variables": {"TABLE_NAME": "T", "AWS_SECRET_ACCESS_KEY": "x"}})
    {'Variables': {'TABLE_NAME': 'T', 'AWS_SECRET_ACCESS_KEY': '****'}}
    """
    if key and _SECRET_KEY.search(key) and isinstance(value, str | bytes):
        return "****"
    if isinstance(value, dict):
        return {k: hide_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(v) for v in value]
    return value


def _json_document(value: Any) -> Any | None:
    """The parsed document when ``value`` is a JSON object/array in a string, else None."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    return doc if isinstance(doc, dict | list) else None


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _fold(value: Any, room: int) -> str:
    """``repr(value)``, or, when longer than ``room``, one item a line (nested alike)."""
    text = repr(value)
    if len(text) <= room or not isinstance(value, dict | list | tuple) or not value:
        return text
    if isinstance(value, dict):
        parts = [f"{k!r}: " + _fold(v, room - len(INDENT) - len(repr(k)) - 2)
                 for k, v in value.items()]
        opening, closing = "{", "}"
    else:
        parts = [_fold(v, room - len(INDENT)) for v in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    body = ",\n".join(_indent(part, INDENT) for part in parts)
    return f"{opening}\n{body}\n{closing}"


def _param(key: str, value: Any) -> str:
    """``key=value`` for a multi-line call: documents and long values over several lines."""
    doc = _json_document(value)
    if doc is not None:
        body = json.dumps(doc, indent=2, ensure_ascii=False)
        return f"{key}=json.dumps({body})"  # the caller indents every line of it
    # A long plain string stays whole on its line: cutting it would hide what was sent.
    return f"{key}=" + _fold(value, WIDTH - 2 * len(INDENT) - len(key) - 1)


def format_call(service: str, operation: str, params: dict[str, Any]) -> str:
    """The call ``service.Operation(...)`` in full: one line if it fits, else one per param.

    Example
    -------
    >>> print(format_call("iam", "PutRolePolicy", {"RoleName": "r", "PolicyName": "p",
    ...       "PolicyDocument": '{"Version": "2012-10-17", "Statement": []}'}))
    iam.PutRolePolicy(
        RoleName='r',
        PolicyName='p',
        PolicyDocument=json.dumps({
          "Version": "2012-10-17",
          "Statement": []
        }))
    """
    params = hide_secrets(dict(params))
    head = f"{service}.{operation}("
    line = head + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"
    has_doc = any(_json_document(v) is not None for v in params.values())
    if len(line) <= WIDTH and not has_doc:
        text = line
    else:
        body = ",\n".join(_indent(_param(str(k), v), INDENT) for k, v in params.items())
        text = head + "\n" + body + ")"
    return mask_accounts(_ACCESS_KEY_ID.sub(lambda m: m.group(1) + "*" * 16, text))


def format_any_call(call: Any) -> str:
    """A recorded call (anything with ``service``, ``operation``, ``params``) or its text.

    Example
    -------
    >>> format_any_call("kinesis.ListShards(StreamName='wildrydes')")
    "kinesis.ListShards(StreamName='wildrydes')"
    """
    params = getattr(call, "params", None)
    if isinstance(params, dict) and hasattr(call, "service") and hasattr(call, "operation"):
        return format_call(str(call.service), str(call.operation), params)
    return mask_accounts(_ACCESS_KEY_ID.sub(lambda m: m.group(1) + "*" * 16, str(call)))
