"""Fault injection for the local cloud: off by default, set through its control API.

A teacher (or a test) can make a share of invocations fail, time out or lose their worker,
and slow down or fail the function's DynamoDB writes, without changing the function.

Example
-------
>>> f = FaultSettings.from_dict({"invoke_error_rate": 0.1, "seed": 7})
>>> f.invoke_error_rate
0.1
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, fields
from typing import Any

RATE_FIELDS = (
    "invoke_error_rate",
    "invoke_timeout_rate",
    "worker_kill_rate",
    "ddb_write_error_rate",
)


@dataclass
class FaultSettings:
    """Shares are 0..1; ``ddb_write_delay_s`` is seconds added to each function write."""

    invoke_error_rate: float = 0.0
    invoke_timeout_rate: float = 0.0
    worker_kill_rate: float = 0.0
    ddb_write_error_rate: float = 0.0
    ddb_write_delay_s: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultSettings:
        """Validate ``data`` and build settings; unknown keys and bad values raise ValueError."""
        allowed = {f.name for f in fields(cls) if not f.name.startswith("_")}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(
                f"unknown fault setting(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        values: dict[str, Any] = {}
        for name in RATE_FIELDS:
            if name in data:
                value = float(data[name])
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{name}={value} must be between 0 and 1")
                values[name] = value
        if "ddb_write_delay_s" in data:
            delay = float(data["ddb_write_delay_s"])
            if not 0.0 <= delay <= 60.0:
                raise ValueError(f"ddb_write_delay_s={delay} must be between 0 and 60")
            values["ddb_write_delay_s"] = delay
        if data.get("seed") is not None:
            values["seed"] = int(data["seed"])
        settings = cls(**values)
        settings._rng.seed(settings.seed)
        return settings

    def to_dict(self) -> dict[str, Any]:
        # Not asdict(): it deep-copies every field, and the lock cannot be copied.
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    @property
    def active(self) -> bool:
        return any(getattr(self, n) > 0 for n in RATE_FIELDS) or self.ddb_write_delay_s > 0

    def roll(self, rate: float) -> bool:
        """True with probability ``rate`` (reproducible under a seed)."""
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate
