"""How fast the local cloud's Lambda runtime answers: warm invocations and cold starts.

Warm: the median of boto3 ``invoke`` round trips of a no-op function whose worker is already
running. Cold: the first invocation of a newly created function (a new worker process), the
median over several new functions.

Example
-------
>>> run("http://127.0.0.1:4599")   # doctest: +SKIP
{'invoke_warm_ms_p50': 1.9, 'invoke_warm_ms_p50_target': 5.0, ...}
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

from .common import lambda_role, local_client, progress, zip_source

WARM_CALLS = 200
WARM_UP_CALLS = 20
COLD_FUNCTIONS = 5
REGION = "us-east-1"
TARGETS = {"invoke_warm_ms_p50": 5.0, "worker_cold_start_ms": 300.0}
HIGHER_IS_BETTER: set[str] = set()
NO_OP = "def handler(event, context):\n    return None\n"



def _create(lam: Any, role: str) -> str:
    name = f"bench-noop-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                        Handler="index.handler", Code={"ZipFile": zip_source(NO_OP)})
    return name


def _timed_invoke(lam: Any, name: str) -> float:
    began = time.perf_counter()
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    response["Payload"].read()
    elapsed = (time.perf_counter() - began) * 1000
    if response.get("FunctionError"):
        raise RuntimeError(f"the no-op function failed: {response['FunctionError']}")
    return elapsed


def run(endpoint: str) -> dict[str, Any]:
    """Warm p50 and cold-start median, in milliseconds, with their targets.

    Example
    -------
    >>> run("http://127.0.0.1:4599")["worker_cold_start_ms"] < 300   # doctest: +SKIP
    True
    """
    lam = local_client("lambda", endpoint)
    role = lambda_role(endpoint, "bench-runtime")
    created: list[str] = []
    try:
        cold = []
        for _ in range(COLD_FUNCTIONS):
            name = _create(lam, role)
            created.append(name)
            cold.append(_timed_invoke(lam, name))
        progress(f"bench_runtime: cold starts {[round(c, 1) for c in cold]} ms")
        warm_name = created[0]
        for _ in range(WARM_UP_CALLS):
            _timed_invoke(lam, warm_name)
        warm = sorted(_timed_invoke(lam, warm_name) for _ in range(WARM_CALLS))
    finally:
        for name in created:
            lam.delete_function(FunctionName=name)
    figures = {
        "invoke_warm_ms_p50": round(statistics.median(warm), 2),
        "invoke_warm_ms_p90": round(warm[int(len(warm) * 0.9)], 2),
        "worker_cold_start_ms": round(statistics.median(cold), 1),
    }
    for key, target in TARGETS.items():
        figures[f"{key}_target"] = target
    return figures
