"""Kinesis event source mappings of the local cloud (placeholder: replaced by the ESM work)."""

from __future__ import annotations

from typing import Any


class EventSourceMappingService:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def start(self) -> None:
        pass

    def shutdown(self) -> None:
        pass
