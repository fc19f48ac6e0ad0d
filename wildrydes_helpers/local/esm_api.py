"""Event source mapping API for the local cloud (placeholder: replaced by the ESM work)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from .app import json_error


def handle_esm_request(cloud: Any, request: Request, uuid: str | None, region: str) -> Response:
    return json_error(501, "ServiceException", "Event source mappings are not available yet.")
