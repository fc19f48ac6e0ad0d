"""How fast the local cloud starts and how much memory it holds once the lab has used it.

Each start is a fresh process in its own home, timed from ``local_cloud.start()`` to the first
successful DynamoDB ListTables.

``local_cloud_rss_mb`` is the local cloud's own process after every service the lab uses has
answered once: DynamoDB, Kinesis, IAM, Lambda (with one invoke of a function), CloudWatch Logs
and SQS, then a few idle seconds. ``local_cloud_tree_rss_mb`` adds the processes below it (the
function's worker, and a fork server if the runtime has one); ``local_cloud_rss_idle_mb`` is the
old figure, taken when only DynamoDB had answered.

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
from wildrydes_helpers.processes import rss_mb, tree_rss_mb

from .common import (
    lambda_role,
    local_client,
    median,
    private_config,
    progress,
    wait_until,
    zip_source,
)

STARTS = 5
IDLE_S = 3.0
FIGURES = ("local_cloud_start_s", "local_cloud_rss_mb")


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


def touch_every_service(endpoint: str, region: str) -> None:
    """One call to each service the lab uses, and one invoke of a function (a worker).

    Example
    -------
    >>> touch_every_service("http://127.0.0.1:4599", "us-east-1")   # doctest: +SKIP
    """
    local_client("dynamodb", endpoint, region).list_tables()
    local_client("kinesis", endpoint, region).list_streams()
    local_client("sts", endpoint, region).get_caller_identity()
    role = lambda_role(endpoint, "bench-rss")  # IAM
    lam = local_client("lambda", endpoint, region)
    lam.create_function(FunctionName="bench-rss", Runtime="python3.12", Role=role,
                        Handler="index.handler", Code={"ZipFile": zip_source(
                            "def handler(event, context):\n    return 1\n")})
    lam.invoke(FunctionName="bench-rss", Payload=b"{}")["Payload"].read()
    # The invoke's log lines are in Logs now: read them back, as 04 does.
    local_client("logs", endpoint, region).filter_log_events(
        logGroupName="/aws/lambda/bench-rss", limit=10)
    local_client("sqs", endpoint, region).list_queues()


def run(endpoint: str | None = None) -> dict[str, Any]:
    """Start time (median of fresh starts) and idle memory of the local cloud.

    Example
    -------
    >>> run()["local_cloud_rss_mb"] < 100   # doctest: +SKIP
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
                    figures["local_cloud_rss_idle_mb"] = round(rss_mb(pid), 1)
                    touch_every_service(cfg.local_endpoint, cfg.region)
                    time.sleep(IDLE_S)
                    figures["local_cloud_rss_mb"] = round(rss_mb(pid), 1)
                    figures["local_cloud_tree_rss_mb"] = round(tree_rss_mb(pid), 1)
            finally:
                local_cloud.stop(cfg)
    figures["local_cloud_start_s"] = median(starts)
    figures["local_cloud_start_s_runs"] = [round(s, 4) for s in starts]
    return figures
