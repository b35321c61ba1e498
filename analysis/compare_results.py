"""What an A/B comparison produces: each arm's estimate on a metric (``ArmResult``), each
arm against the control (``Contrast``), both per metric (``MetricComparison``), and the whole
result (``Comparison``) with its JSON form and the method it states (``METHOD``); plus the
defaults the statistics run with. ``analysis.compare`` describes the method and the JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
PERMUTATIONS = 4999
N_BOOT = 2000
BREAKS_PER_RUN = 200  # talk breaks sampled from each run for the divergence test
POOLED_BREAKS = 12_000  # ...fewer per run when many runs would pool more than this
MIN_BREAKS_PER_RUN = 20
DIGITS = 6

METHOD: dict[str, str] = {
    "unit": "the run: one value per run (the metric averaged over the run's stations)",
    "estimate": "mean of run values; 95% percentile cluster bootstrap over runs",
    "p_value": (
        "two-sided permutation test of the difference in means, relabelling whole runs "
        "(exact when there are few relabellings)"
    ),
    "multiplicity": "Holm across metrics, separately for each arm's contrast with the control",
    "effect_size": "Hedges' g over run values",
    "divergence": (
        "energy distance of TF-IDF/LSA talk embeddings (names masked), at most "
        f"{BREAKS_PER_RUN} breaks per run; p-value from relabelling whole runs"
    ),
}


@dataclass(slots=True)
class ArmResult:
    """One arm on one metric: how many runs, their mean, and the interval over runs."""

    arm: str
    runs: int
    estimate: float | None
    ci95: tuple[float, float] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "runs": self.runs,
            "estimate": _num(self.estimate),
            "ci95": [_num(self.ci95[0]), _num(self.ci95[1])] if self.ci95 else None,
        }


@dataclass(slots=True)
class Contrast:
    """An arm against the control on one metric; ``effect_size`` is Hedges' g over runs."""

    arm: str
    control: str
    difference: float | None
    p_value: float | None
    p_holm: float | None
    effect_size: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "control": self.control,
            "difference": _num(self.difference),
            "p_value": _num(self.p_value),
            "p_holm": _num(self.p_holm),
            "effect_size": _num(self.effect_size),
        }


@dataclass(slots=True)
class MetricComparison:
    """Every arm and every contrast on one metric."""

    metric: str
    primary: bool
    arms: list[ArmResult]
    contrasts: list[Contrast]

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "primary": self.primary,
            "arms": [a.to_json() for a in self.arms],
            "contrasts": [c.to_json() for c in self.contrasts],
        }


@dataclass(slots=True)
class Comparison:
    """The experiment's result: per-metric statistics, talk divergence, the run values."""

    control: str
    metrics: list[MetricComparison]
    divergence: list[dict[str, Any]]  # {a, b, statistic, p_value, runs_a, runs_b, breaks_*}
    run_values: dict[str, dict[str, list[float]]]  # metric -> arm -> per-run values
    judge: str
    runs: dict[str, list[str]] = field(default_factory=dict)  # arm -> run ids

    @property
    def primary(self) -> str | None:
        return next((m.metric for m in self.metrics if m.primary), None)

    def metric(self, name: str) -> MetricComparison:
        for m in self.metrics:
            if m.metric == name:
                return m
        raise KeyError(f"metric {name!r} was not compared")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "control": self.control,
            "primary": self.primary,
            "judge": self.judge,
            "arms": {arm: list(ids) for arm, ids in self.runs.items()},
            "metrics": [m.to_json() for m in self.metrics],
            "divergence": [
                {k: _num(v) if isinstance(v, float) else v for k, v in d.items()}
                for d in self.divergence
            ],
            "run_values": {
                metric: {arm: [_num(v) for v in vs] for arm, vs in by_arm.items()}
                for metric, by_arm in self.run_values.items()
            },
            "method": dict(METHOD),
        }


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), DIGITS)
