"""``python -m benchmarks``: run every benchmark against a private local cloud, print JSON.

Progress goes to stderr; the last line of stdout is one JSON object with each figure, its
target (``<figure>_target``) and ``targets_met``. A benchmark module that fails is reported
as ``"<module>_error"`` and the others still run.

Example
-------
$ python -m benchmarks 2>/dev/null | tail -1
{"local_cloud_start_s": 0.8, "local_cloud_start_s_target": 1.5, ..., "targets_met": {...}}
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

from wildrydes_helpers.local import process as local_cloud

from .common import private_config, progress, targets_met

# Run in this order. The classroom runs before the runtime and mapping benchmarks, so its
# memory figure counts the lab's function workers only, not those of their test functions.
MODULES = ("bench_local_cloud", "bench_classroom", "bench_runtime", "bench_esm",
           "bench_notebooks")


def _load(name: str) -> Any | None:
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__package__}.{name}":
            progress(f"{name}: not present, skipped")
            return None
        raise


def run_all(endpoint: str, modules: tuple[str, ...] = MODULES) -> dict[str, Any]:
    """Every benchmark's figures in one dict, with ``targets_met``; failures become errors.

    Example
    -------
    >>> run_all("http://127.0.0.1:4599", ())
    {'targets_met': {}}
    """
    figures: dict[str, Any] = {}
    higher: set[str] = set()
    for name in modules:
        try:
            module = _load(name)
            if module is None:
                continue
            progress(f"{name}: running")
            began = time.perf_counter()
            figures.update(module.run(endpoint))
            higher |= set(getattr(module, "HIGHER_IS_BETTER", ()))
            progress(f"{name}: done in {time.perf_counter() - began:.1f} s")
        except Exception as exc:  # noqa: BLE001 - one benchmark must not sink the others
            progress(f"{name}: failed\n{traceback.format_exc()}")
            figures[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
    figures["targets_met"] = targets_met(figures, higher)
    return figures


def main() -> int:
    """Start a private local cloud, run the benchmarks, stop it, print the JSON line.

    Example
    -------
    >>> main()  # doctest: +SKIP
    0
    """
    with private_config() as cfg:
        # Benchmarks that use the lab's helpers find this private cloud through the environment.
        os.environ.update(WILDRYDES_HOME=str(cfg.home), WILDRYDES_LOCAL_PORT=str(cfg.local_port),
                          WILDRYDES_BACKEND="local")
        os.environ.pop("AWS_ENDPOINT_URL", None)
        progress(f"starting a private local cloud in {cfg.home}")
        try:
            endpoint = local_cloud.start(cfg)
            figures = run_all(endpoint)
        finally:
            local_cloud.stop(cfg)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
