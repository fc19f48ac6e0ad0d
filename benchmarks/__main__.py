"""``python -m benchmarks [MODULE ...]``: run the benchmarks, print ONE JSON object, judge it.

Progress and the verdict go to stderr; stdout is one JSON object with each figure, its target
(``<figure>_target``) and ``targets_met``, which lists every figure of ``targets.TARGETS`` (a
figure a benchmark failed to deliver is listed as not met). The exit status is 1 when any figure
is missing or misses its target, with one stderr line naming each; 0 otherwise. A benchmark
module that fails is reported as ``"<module>_error"`` and the others still run.

Naming modules (``python -m benchmarks bench_runtime``) runs only those, and judges only their
figures.

Example
-------
$ python -m benchmarks 2>/dev/null
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

from .common import private_config, progress
from .targets import TARGETS, verdict

# Run in this order. The one-cloud classroom runs before the runtime and mapping benchmarks, so
# its memory figure counts the lab's function workers only, not those of their test functions.
# The benchmarks that start clouds of their own (or none) come after the shared cloud's.
SHARED_CLOUD = ("bench_local_cloud", "bench_classroom", "bench_runtime", "bench_esm")
OWN_CLOUDS = ("bench_vs_moto", "bench_classroom_host", "bench_footprint", "bench_notebooks")
MODULES = SHARED_CLOUD + OWN_CLOUDS


def _load(name: str) -> Any:
    return importlib.import_module(f"{__package__}.{name}")


def run_all(endpoint: str, modules: tuple[str, ...] = MODULES) -> dict[str, Any]:
    """Every benchmark's figures in one dict, with targets; failures become ``<module>_error``.

    Example
    -------
    >>> run_all("http://127.0.0.1:4599", ())
    {}
    """
    figures: dict[str, Any] = {}
    for name in modules:
        began = time.perf_counter()
        try:
            module = _load(name)
            progress(f"{name}: running")
            figures.update(module.run(endpoint))
            progress(f"{name}: done in {time.perf_counter() - began:.1f} s")
        except Exception as exc:  # noqa: BLE001 - one benchmark must not sink the others
            progress(f"{name}: failed\n{traceback.format_exc()}")
            figures[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
    return figures


def judge(figures: dict[str, Any], modules: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """Add ``<name>_target`` and ``targets_met`` for the figures of ``modules``; the lines.

    Example
    -------
    >>> out, lines = judge({"rehearsal_s": 12.0}, ("bench_notebooks",))
    >>> out["rehearsal_s_target"], out["targets_met"]["rehearsal_s"]
    (30.0, True)
    """
    owned: dict[str, str] = {}
    for name in modules:
        for figure in getattr(_load(name), "FIGURES", ()):
            owned[figure] = name
    targets = {k: t for k, t in TARGETS.items() if k in owned}
    errors = {k: f"{owned[k]} failed: {figures[owned[k] + '_error']}" for k in targets
              if owned[k] + "_error" in figures}
    met, lines = verdict(figures, targets, errors)
    out = dict(figures)
    for name, target in targets.items():
        out[f"{name}_target"] = target.value
    out["targets_met"] = met
    return out, lines


def main(argv: list[str] | None = None) -> int:
    """Start a private local cloud, run the benchmarks, stop it, print the JSON, judge it.

    Example
    -------
    >>> main(["bench_local_cloud"])  # doctest: +SKIP
    0
    """
    chosen = tuple(sys.argv[1:] if argv is None else argv) or MODULES
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        print(f"unknown benchmark {unknown}; choose from {', '.join(MODULES)}", file=sys.stderr)
        return 2
    with private_config() as cfg:
        # Benchmarks that use the lab's helpers find this private cloud through the environment.
        os.environ.update(WILDRYDES_HOME=str(cfg.home), WILDRYDES_LOCAL_PORT=str(cfg.local_port),
                          WILDRYDES_BACKEND="local")
        os.environ.pop("AWS_ENDPOINT_URL", None)
        progress(f"starting a private local cloud in {cfg.home}")
        try:
            endpoint = local_cloud.start(cfg)
            figures = run_all(endpoint, tuple(m for m in MODULES if m in chosen))
        finally:
            local_cloud.stop(cfg)
    figures, lines = judge(figures, chosen)
    print(json.dumps(figures), flush=True)
    for line in lines:
        print(f"[bench] {line}", file=sys.stderr, flush=True)
    if lines:
        print(f"[bench] {len(lines)} figure(s) missing or missing their target", file=sys.stderr)
        return 1
    progress("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
