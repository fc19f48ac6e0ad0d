"""How fast the local cloud's Lambda runtime answers: warm invocations and cold starts.

- ``worker_cold_start_ms``: the first invocation of a newly created function running the lab's
  own ``lambda/index.py`` (it imports boto3 and makes its DynamoDB resource at init), timed from
  the boto3 ``invoke`` call to its answer: a new worker, the function's init and the handler
  on the sample batch of 03's ``test_invoke``. The median over ``COLD_FUNCTIONS`` functions.
  ``worker_init_duration_ms`` is the median ``Init Duration`` of their REPORT lines.
- ``worker_cold_start_noop_ms``: the same for a function that imports nothing.
- ``invoke_warm_ms_p50``: boto3 ``invoke`` round trips of the no-op function, worker running.

Example
-------
>>> run("http://127.0.0.1:4599")   # doctest: +SKIP
{'invoke_warm_ms_p50': 1.9, 'worker_cold_start_ms': 95.0, ...}
"""

from __future__ import annotations

import base64
import json
import re
import statistics
import time
import uuid
from typing import Any

from wildrydes_helpers.config import LOCAL_ACCOUNT_ID, Config
from wildrydes_helpers.function_zip import build_zip
from wildrydes_helpers.sample_invoke import sample_event

from .common import lambda_role, local_client, progress, zip_source

WARM_CALLS = 200
WARM_UP_CALLS = 20
# A median of 11, not 5: on this shared 2-core machine one full run had three of five cold
# starts land on a busy moment (102 to 121 ms, where the others took 82 to 87 ms).
COLD_FUNCTIONS = 11
FIGURES = ("invoke_warm_ms_p50", "worker_cold_start_ms", "worker_cold_start_noop_ms")
NO_OP = "def handler(event, context):\n    return None\n"
_INIT = re.compile(r"Init Duration: ([0-9.]+) ms")


def _create(lam: Any, role: str, kind: str, code: bytes, env: dict[str, str]) -> str:
    name = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                        Handler="index.handler", Code={"ZipFile": code}, Timeout=30,
                        Environment={"Variables": env})
    return name


def timed_invoke(lam: Any, name: str, payload: bytes = b"{}") -> tuple[float, str]:
    """(milliseconds from the call to the whole answer, the decoded log tail).

    Example
    -------
    >>> timed_invoke(local_client("lambda", "http://127.0.0.1:4599"), "f")  # doctest: +SKIP
    (2.1, 'START RequestId: ...')
    """
    began = time.perf_counter()
    response = lam.invoke(FunctionName=name, Payload=payload, LogType="Tail")
    response["Payload"].read()
    elapsed = (time.perf_counter() - began) * 1000
    tail = base64.b64decode(response.get("LogResult") or b"").decode(errors="replace")
    if response.get("FunctionError"):
        raise RuntimeError(f"{name} failed ({response['FunctionError']}):\n{tail}")
    return elapsed, tail


def init_duration_ms(tail: str) -> float | None:
    """The ``Init Duration`` of a REPORT line, if the log tail has one.

    Example
    -------
    >>> init_duration_ms("REPORT RequestId: x\\tDuration: 2.00 ms\\tInit Duration: 61.20 ms")
    61.2
    >>> init_duration_ms("REPORT RequestId: x\\tDuration: 2.00 ms") is None
    True
    """
    found = _INIT.search(tail)
    return float(found.group(1)) if found else None


def run(endpoint: str) -> dict[str, Any]:
    """Cold starts (lab's function and no-op) and warm p50, in milliseconds.

    Example
    -------
    >>> run("http://127.0.0.1:4599")["worker_cold_start_ms"] < 100   # doctest: +SKIP
    True
    """
    lam = local_client("lambda", endpoint)
    role = lambda_role(endpoint, "bench-runtime")
    lab_code, noop_code = build_zip(), zip_source(NO_OP)
    # 03's own test event: a batch, not final, so the handler runs but writes nothing.
    stream = f"arn:aws:kinesis:us-east-1:{LOCAL_ACCOUNT_ID}:stream/bench"
    event = json.dumps(sample_event(Config(), stream, role)).encode()
    created: list[str] = []
    try:
        lab_cold, inits, noop_cold = [], [], []
        for _ in range(COLD_FUNCTIONS):
            name = _create(lam, role, "lab", lab_code, {"TABLE_NAME": "bench-not-written"})
            created.append(name)
            elapsed, tail = timed_invoke(lam, name, event)
            lab_cold.append(elapsed)
            if (init := init_duration_ms(tail)) is not None:
                inits.append(init)
            name = _create(lam, role, "noop", noop_code, {})
            created.append(name)
            noop_cold.append(timed_invoke(lam, name)[0])
        progress(f"bench_runtime: lab cold starts {[round(c, 1) for c in lab_cold]} ms, "
                 f"init {inits} ms; no-op {[round(c, 1) for c in noop_cold]} ms")
        warm_name = created[1]
        for _ in range(WARM_UP_CALLS):
            timed_invoke(lam, warm_name)
        warm = sorted(timed_invoke(lam, warm_name)[0] for _ in range(WARM_CALLS))
    finally:
        for name in created:
            lam.delete_function(FunctionName=name)
    return {
        "invoke_warm_ms_p50": round(statistics.median(warm), 2),
        "invoke_warm_ms_p90": round(warm[int(len(warm) * 0.9)], 2),
        "worker_cold_start_ms": round(statistics.median(lab_cold), 1),
        "worker_cold_start_ms_runs": [round(c, 1) for c in lab_cold],
        "worker_init_duration_ms": round(statistics.median(inits), 1) if inits else None,
        "worker_cold_start_noop_ms": round(statistics.median(noop_cold), 1),
    }
