"""Lambda Invoke for the local cloud (placeholder: replaced by the runtime work)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from .app import json_error


def handle_invoke(cloud: Any, request: Request, function: str, region: str) -> Response:
    return json_error(501, "ServiceException", "Invoke is not available yet.")
