"""How fast the local cloud starts and how much memory it holds when idle.

Each start is a fresh process in its own home, timed from ``local_cloud.start()`` to the first
successful DynamoDB ListTables.

Example
-------
>>> run("http://127.0.0.1:4599")   # doctest: +SKIP
{'local_cloud_start_s': 0.8, 'local_cloud_start_s_target': 1.5, ...}
"""

from __future__ import annotations

import time
from typing import Any

from wildrydes_helpers.config import Config
from wildrydes_helpers.local import process as local_cloud
from wildrydes_helpers.processes import rss_mb

from .common import local_client, median, private_config, progress, wait_until

STARTS = 5
IDLE_S = 3.0
TARGETS = {"local_cloud_start_s": 1.5, "local_cloud_rss_mb": 150.0}
HIGHER_IS_BETTER: set[str] = set()



def time_one_start(cfg: Config) -> float:
    """Seconds from ``local_cloud.start()`` to the first answered DynamoDB ListTables.

    Example
    -------
    >>> with private_config() as cfg:        # doctest: +SKIP
    ...     time_one_start(cfg)
    0.8
    """
    # The client is built before the clock starts: its cost is the caller's, not the cloud's.
    client = local_client("dynamodb", cfg.local_endpoint, cfg.region)
    began = time.perf_counter()
    local_cloud.start(cfg)
    wait_until(lambda: "TableNames" in client.list_tables(), timeout_s=30)
    return time.perf_counter() - began


def _touch_every_service(endpoint: str, region: str) -> None:
    local_client("iam", endpoint, region).list_policies(Scope="AWS", MaxItems=1)
    local_client("kinesis", endpoint, region).list_streams()
    local_client("lambda", endpoint, region).list_functions()
    local_client("logs", endpoint, region).describe_log_groups()
    local_client("sqs", endpoint, region).list_queues()
    local_client("sts", endpoint, region).get_caller_identity()


def run(endpoint: str | None = None) -> dict[str, Any]:
    """Start time (median of fresh starts) and idle memory of the local cloud.

    Example
    -------
    >>> run()["local_cloud_rss_mb"] < 150   # doctest: +SKIP
    True
    """
    starts: list[float] = []
    figures: dict[str, Any] = {}
    for attempt in range(STARTS):
        with private_config() as cfg:
            try:
                starts.append(time_one_start(cfg))
                progress(f"local cloud start {attempt + 1}/{STARTS}: {starts[-1]:.3f} s")
                if attempt == STARTS - 1:
                    pid = int((local_cloud.status(cfg) or {})["pid"])
                    time.sleep(IDLE_S)
                    figures["local_cloud_rss_mb"] = round(rss_mb(pid), 1)
                    _touch_every_service(cfg.local_endpoint, cfg.region)
                    time.sleep(IDLE_S)
                    # Informational: after every served service has built its backend.
                    figures["local_cloud_rss_all_services_mb"] = round(rss_mb(pid), 1)
            finally:
                local_cloud.stop(cfg)
    figures["local_cloud_start_s"] = median(starts)
    figures["local_cloud_start_s_runs"] = [round(s, 4) for s in starts]
    for name, target in TARGETS.items():
        figures[f"{name}_target"] = target
    return figures
