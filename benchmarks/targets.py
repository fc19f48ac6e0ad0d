"""Every figure ``make bench`` must deliver, its target, and the verdict on one run.

One table, so that a benchmark which fails or forgets a figure cannot make the run look good:
a figure of the table that is missing from the run counts as missed, and ``make bench`` exits
non-zero with one line naming it.

A number meets its target when it is ``<=`` the target, or ``>=`` for figures marked
``higher``; a boolean target (``classroom_exact``) must be equal.

Example
-------
>>> verdict({"rehearsal_s": 25.0}, {"rehearsal_s": Target(30.0)})
({'rehearsal_s': True}, [])
>>> verdict({}, {"rehearsal_s": Target(30.0)})[1]
['MISSING rehearsal_s (target <= 30.0): no figure in this run']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """A target value; ``higher`` when bigger is better (rates, ratios)."""

    value: float | bool
    higher: bool = False

    def wording(self) -> str:
        """``<= 1.5``, ``>= 0.9`` or ``== True``.

        Example
        -------
        >>> Target(0.9, higher=True).wording()
        '>= 0.9'
        """
        if isinstance(self.value, bool):
            return f"== {self.value}"
        return f"{'>=' if self.higher else '<='} {self.value}"

    def met_by(self, value: Any) -> bool:
        """Whether ``value`` meets this target (a wrong type never does).

        Example
        -------
        >>> Target(True).met_by(True), Target(100.0).met_by(120.5), Target(1.2, True).met_by(1.3)
        (True, False, True)
        """
        if isinstance(self.value, bool):
            return value is self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return value >= self.value if self.higher else value <= self.value


# Issue 14's figures. Sources: docs in each benchmark module.
TARGETS: dict[str, Target] = {
    # bench_local_cloud
    "local_cloud_start_s": Target(1.5),
    "local_cloud_rss_mb": Target(100.0),
    # bench_runtime
    "invoke_warm_ms_p50": Target(5.0),
    "worker_cold_start_ms": Target(100.0),
    "worker_cold_start_noop_ms": Target(100.0),
    # bench_esm
    "esm_vs_direct_invoke_ratio": Target(0.9, higher=True),
    "final_latency_s_p50": Target(1.0),
    "final_latency_s_p99": Target(2.0),
    # bench_vs_moto
    "api_vs_moto_ratio": Target(1.2, higher=True),
    # bench_classroom (one local cloud, 150 unicorns)
    "classroom_exact": Target(True),
    "classroom_final_latency_s_p99": Target(1.0),
    # Memory summed over several processes is judged by their proportional set sizes: a sum of
    # RSS counts each shared library, and each page a worker shares with the zygote it was
    # forked from, once per process. The RSS sums are reported beside (``*_peak_rss_mb``).
    "classroom_peak_pss_mb": Target(300.0),
    # bench_classroom_host (30 students, 30 local clouds)
    "classroom_host_exact": Target(True),
    "classroom_host_final_latency_s_p99": Target(1.0),
    "classroom_host_peak_pss_mb": Target(6000.0),
    "classroom_host_setup_s": Target(90.0),
    # bench_footprint
    "lab_venv_mb": Target(500.0),
    # bench_notebooks
    "rehearsal_s": Target(30.0),
    "notebook_suite_ok": Target(True),
    # nbval at 60 s windows runs beside pytest in `make test` (< 15 min in all)
    "notebook_suite_s": Target(600.0),
}


def verdict(figures: dict[str, Any], targets: dict[str, Target] | None = None,
            errors: dict[str, str] | None = None) -> tuple[dict[str, bool], list[str]]:
    """(``targets_met`` for every figure of ``targets``, one line per missing or missed figure).

    ``errors`` maps a figure to why it is missing (its benchmark's error), for the line.

    Example
    -------
    >>> met, lines = verdict({"a_ms": 120.0, "b": True},
    ...                      {"a_ms": Target(100.0), "b": Target(True)})
    >>> met, lines
    ({'a_ms': False, 'b': True}, ['MISSED a_ms = 120.0 (target <= 100.0)'])
    """
    targets = TARGETS if targets is None else targets
    errors = errors or {}
    met: dict[str, bool] = {}
    lines: list[str] = []
    for name, target in targets.items():
        if name not in figures or figures[name] is None:
            met[name] = False
            why = errors.get(name, "no figure in this run")
            lines.append(f"MISSING {name} (target {target.wording()}): {why}")
            continue
        met[name] = target.met_by(figures[name])
        if not met[name]:
            lines.append(f"MISSED {name} = {figures[name]!r} (target {target.wording()})")
    return met, lines
