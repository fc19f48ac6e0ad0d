"""Runs Lambda functions inside the local cloud (placeholder: replaced by the runtime work)."""

from __future__ import annotations

from typing import Any


class FunctionRuntime:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def forget(self, function_name: str) -> None:
        pass

    def shutdown(self) -> None:
        pass
