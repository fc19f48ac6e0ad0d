"""Helpers for the Wild Rydes "Analytics with Tumbling Windows" lab.

The lab's steps are importable from here (loaded on first use, so the local cloud and the
CLI do not pay for pandas and matplotlib).

Example
-------
>>> import wildrydes_helpers as wr     # doctest: +SKIP
>>> wr.get_session().describe()       # doctest: +SKIP
>>> wr.create_table()                 # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import Config, load_config
from .errors import WildRydesError
from .session import LabSession, get_session

# public name -> module that defines it
_HELPERS = {
    "create_stream": "stream", "stream_arn": "stream", "shard_ids": "stream",
    "create_table": "table", "table_arn": "table",
    "create_role": "iam", "role_arn": "iam",
    "create_function": "function", "test_invoke": "sample_invoke",
    "build_zip": "function_zip", "code_sha256": "function_zip",
    "run_producer": "producer", "start_producer": "producer", "stop_producer": "producer",
    "producer_status": "producer", "stop_all_producers": "producer",
    "Ledger": "ledger", "read_ledger": "ledger", "default_ledger_path": "ledger",
    "log_events": "monitor", "final_events": "monitor", "invocations": "monitor",
    "windows": "query",
    "reconcile": "reconciliation", "read_stream": "stream_records",
    "plot_distance": "plots", "plot_timeline": "plots",
    "wait_for_windows": "waiting",
    "clean_up": "cleanup",
    "StepResult": "step_result",
}

__all__ = ["Config", "LabSession", "WildRydesError", "get_session", "load_config",
           *sorted(_HELPERS)]


def __getattr__(name: str) -> Any:
    module = _HELPERS.get(name)
    if module is None:
        raise AttributeError(f"module 'wildrydes_helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HELPERS))
