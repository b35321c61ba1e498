"""A/B comparison of the arms of an experiment, with runs as the unit.

Why runs: the talk breaks and probe answers of one run share its seed, its listeners and its
station's state as it drifts, so they are not independent draws; a test that counted breaks
as samples would call run-to-run noise a difference. Every number here starts from one value
per run (``run_value``: a scoreboard metric averaged over the run's stations):

- an arm's estimate is the mean of its run values, with a 95% cluster-bootstrap interval that
  resamples whole runs (percentile; for one value per run, the bootstrap of run means);
- a contrast (arm − control) is the difference of means with a two-sided permutation p-value
  that relabels whole runs between the two arms (every relabelling when there are at most
  ``permutations`` of them, else ``permutations`` random ones with p = (1 + #≥) / (1 + P)),
  and Hedges' g over the run values;
- Holm's correction runs across the compared metrics, separately for each arm's contrasts;
- divergence of talk between two arms is the energy distance between their talk-break
  embeddings (all stations of the arm's runs pooled), with a p-value from relabelling whole
  runs, not breaks.

With fewer than two runs in an arm there is no interval and no p-value (``None``).

``Comparison.to_json()`` (numbers rounded to 6 decimals, ``null`` where nothing could be
computed)::

    {
      "schema_version": 1,
      "control": "A",
      "primary": "sycophancy.index",
      "judge": "rules-v1",
      "arms": {"A": ["<run id>", ...], "B": [...]},
      "metrics": [
        {"metric": "sycophancy.index", "primary": true,
         "arms": [{"arm": "A", "runs": 4, "estimate": 0.07, "ci95": [0.02, 0.13]}, ...],
         "contrasts": [{"arm": "B", "control": "A", "difference": 0.6, "p_value": 0.028571,
                        "p_holm": 0.057143, "effect_size": 6.2}]},
        ...
      ],
      "divergence": [{"a": "A", "b": "B", "statistic": 0.05, "p_value": 0.028571,
                      "runs_a": 4, "runs_b": 4, "breaks_a": 800, "breaks_b": 800}, ...],
      "run_values": {"sycophancy.index": {"A": [0.1, ...], "B": [...]}, ...},
      "method": {"unit": ..., "estimate": ..., "p_value": ..., "multiplicity": ...,
                 "effect_size": ..., "divergence": ...}
    }

``runs`` of an arm counts the runs that have a value for the metric (a run that measured
nothing, e.g. answered no probe, is left out, never counted as zero); ``runs_a``/``breaks_a``
count the runs with talk and the talk breaks sampled from them.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist
from sqlalchemy import Engine

from analysis.board import Board
from analysis.judge import Judge, RuleJudge
from analysis.reader import RunData, engine_of, read_run
from analysis.scoreboard import score
from analysis.stats import cluster_bootstrap, hedges_g, holm

SCHEMA_VERSION = 1
PERMUTATIONS = 4999
N_BOOT = 2000
BREAKS_PER_RUN = 200  # talk breaks sampled from each run for the divergence test
POOLED_BREAKS = 12_000  # ...fewer per run when many runs would pool more than this
MIN_BREAKS_PER_RUN = 20
DIGITS = 6
_SKIP_KEYS = ("n", "ci95")  # a dimension's copies of its primary metric's n and interval

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


# -- from stored runs ---------------------------------------------------------------------------


def compare_runs(
    db: str | Engine,
    arms: Mapping[str, Sequence[str]],
    control: str,
    metrics: Sequence[str],
    primary: str,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    judge: Judge | None = None,
) -> Comparison:
    """Compare the arms (arm -> run ids, prefixes or ``latest``) of ``db`` on ``metrics``
    (``"dimension.key"``) against ``control``; ``primary`` is the metric the experiment is for.

    One scoreboard is computed over all runs, so every run's talk is embedded in one space.
    """
    metrics = list(dict.fromkeys(metrics))
    _check_request(arms, control, metrics, primary)
    engine = engine_of(db)
    data: list[RunData] = []
    runs: dict[str, list[str]] = {}
    arm_of: dict[str, str] = {}
    for arm, refs in arms.items():
        runs[arm] = []
        for ref in refs:
            r = read_run(engine, ref)
            if r.run_id in arm_of:
                raise ValueError(
                    f"run {r.run_id} is given twice (arms {arm_of[r.run_id]!r} and {arm!r}): "
                    "runs are the unit, each may count once"
                )
            arm_of[r.run_id] = arm
            data.append(r)
            runs[arm].append(r.run_id)
    board = score(data, judge, seed)
    known = metric_names(board.stations)
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise ValueError(
            f"unknown metric(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(known) or 'none (no stations)'}"
        )
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in board.stations:
        by_run[str(entry["run_id"])].append(entry)
    run_values: dict[str, dict[str, list[float]]] = {}
    for m in metrics:
        run_values[m] = {}
        for arm, ids in runs.items():
            values = (run_value(by_run[rid], m) for rid in ids)
            run_values[m][arm] = [v for v in values if v is not None]
    results = compare_metrics(run_values, control, primary, seed, permutations)
    # The embeddings do not depend on the judge: a rule-judged board of the same runs and seed
    # has exactly the scoreboard's embeddings, without asking a model judge a second time.
    talk = _talk_by_run(Board.of(data, RuleJudge(), seed))
    breaks = {arm: [talk.get(rid, _EMPTY) for rid in ids] for arm, ids in runs.items()}
    divergence = arm_divergence(breaks, seed, permutations)
    return Comparison(control, results, divergence, run_values, board.judge, runs)


def run_value(board_entries_of_one_run: list[dict[str, Any]], metric: str) -> float | None:
    """``metric`` (``"dimension.key"``) of one run: the mean over its stations' entries of the
    value, stations that measured nothing skipped; None when no station has a value."""
    dimension, _, key = metric.partition(".")
    values = []
    for entry in board_entries_of_one_run:
        dim = entry.get(dimension)
        v = dim.get(key) if isinstance(dim, Mapping) else None
        if _is_number(v) and math.isfinite(v):
            values.append(float(v))
    return float(np.mean(values)) if values else None


def metric_names(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every ``"dimension.key"`` that is a number (or an unmeasured estimate) in some
    scoreboard entry: what ``compare_runs`` can compare."""
    names: dict[str, None] = {}
    for entry in entries:
        for dimension, dim in entry.items():
            if not isinstance(dim, Mapping):
                continue
            for key, v in dim.items():
                if key in _SKIP_KEYS or key.endswith(("_n", "_ci95")):
                    continue
                if _is_number(v) or (v is None and f"{key}_n" in dim):
                    names[f"{dimension}.{key}"] = None
    return list(names)


def _check_request(
    arms: Mapping[str, Sequence[str]], control: str, metrics: Sequence[str], primary: str
) -> None:
    if control not in arms:
        raise ValueError(f"control arm {control!r} is not one of the arms ({', '.join(arms)})")
    if len(arms) < 2:
        raise ValueError("a comparison needs at least two arms")
    empty = [arm for arm, refs in arms.items() if not refs]
    if empty:
        raise ValueError(f"arm(s) without runs: {', '.join(map(repr, empty))}")
    if not metrics:
        raise ValueError("no metrics to compare")
    if primary not in metrics:
        raise ValueError(f"primary metric {primary!r} is not among the metrics compared")


# -- the statistics, on run values --------------------------------------------------------------


def compare_metrics(
    values: Mapping[str, Mapping[str, Sequence[float]]],
    control: str,
    primary: str,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    n_boot: int = N_BOOT,
) -> list[MetricComparison]:
    """``compare_values`` for each metric (metric -> arm -> run values), then Holm across the
    metrics for each arm's contrasts (metrics with no p-value are not in the family)."""
    out = []
    for i, (metric, by_arm) in enumerate(values.items()):
        arms, contrasts = compare_values(by_arm, control, _seed(seed, 3, i), permutations, n_boot)
        out.append(MetricComparison(metric, metric == primary, arms, contrasts))
    family: dict[str, list[Contrast]] = defaultdict(list)
    for m in out:
        for c in m.contrasts:
            if c.p_value is not None:
                family[c.arm].append(c)
    for contrasts in family.values():
        adjusted = holm([c.p_value for c in contrasts if c.p_value is not None])
        for c, p in zip(contrasts, adjusted, strict=True):
            c.p_holm = p
    return out


def compare_values(
    values: Mapping[str, Sequence[float]],
    control: str,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    n_boot: int = N_BOOT,
) -> tuple[list[ArmResult], list[Contrast]]:
    """Each arm's mean with its interval over runs, and each other arm against ``control``.

    ``values`` holds one number per run (NaN dropped). ``p_holm`` is the p-value itself here
    (a family of one); ``compare_metrics`` adjusts it across metrics.
    """
    if control not in values:
        raise ValueError(f"control arm {control!r} is not one of the arms ({', '.join(values)})")
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    arrays = {arm: _finite(v) for arm, v in values.items()}
    arms = [
        _arm_result(arm, a, _seed(seed, 0, i), n_boot) for i, (arm, a) in enumerate(arrays.items())
    ]
    base = arrays[control]
    contrasts = []
    others = [(arm, a) for arm, a in arrays.items() if arm != control]
    for j, (arm, a) in enumerate(others):
        rng = np.random.default_rng([seed, 1, j])
        contrasts.append(_contrast(arm, control, a, base, permutations, rng))
    return arms, contrasts


def _arm_result(arm: str, a: np.ndarray, seed: int, n_boot: int) -> ArmResult:
    if a.size == 0:
        return ArmResult(arm, 0, None, None)
    ci = cluster_bootstrap([[v] for v in a], seed, n_boot).ci95 if a.size >= 2 else None
    return ArmResult(arm, int(a.size), float(a.mean()), ci)


def _contrast(
    arm: str,
    control: str,
    a: np.ndarray,
    base: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
) -> Contrast:
    if a.size == 0 or base.size == 0:
        return Contrast(arm, control, None, None, None, None)
    difference = float(a.mean() - base.mean())
    g = hedges_g(a, base)
    p = _mean_p(a, base, permutations, rng) if a.size >= 2 and base.size >= 2 else None
    return Contrast(arm, control, difference, p, p, None if math.isnan(g) else float(g))


def _mean_p(a: np.ndarray, b: np.ndarray, permutations: int, rng: np.random.Generator) -> float:
    """Two-sided permutation p-value of the difference in means, relabelling runs."""
    pooled = np.concatenate([a, b])
    labels, exact = _labellings(pooled.size, a.size, permutations, rng)
    sum_a = labels @ pooled
    stats = np.abs(sum_a / a.size - (pooled.sum() - sum_a) / b.size)
    return _p_value(stats, exact)


def _labellings(
    n: int, n_a: int, permutations: int, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """(indicator matrix of group a, exact): row 0 is the observed labelling (the first
    ``n_a`` items); every distinct relabelling when there are at most ``permutations``,
    else ``permutations`` random ones after row 0."""
    count = math.comb(n, n_a)
    if count <= permutations:
        out = np.zeros((count, n))
        for row, chosen in enumerate(itertools.combinations(range(n), n_a)):
            out[row, list(chosen)] = 1.0
        return out, True
    base = np.zeros(n)
    base[:n_a] = 1.0
    out = np.tile(base, (permutations + 1, 1))
    rng.permuted(out[1:], axis=1, out=out[1:])
    return out, False


def _p_value(stats: np.ndarray, exact: bool) -> float:
    """p from statistics whose row 0 is the observed one (larger = more extreme). A
    relabelling equal to the observed one up to rounding counts as at least as extreme."""
    observed = float(stats[0])
    tol = 1e-9 * max(abs(observed), 1e-12)
    if exact:
        return int(np.count_nonzero(stats >= observed - tol)) / stats.size
    exceed = int(np.count_nonzero(stats[1:] >= observed - tol))
    return (1 + exceed) / stats.size


# -- divergence of talk -------------------------------------------------------------------------

_EMPTY = np.zeros((0, 1))


def arm_divergence(
    breaks: Mapping[str, Sequence[np.ndarray]],
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    per_run: int = BREAKS_PER_RUN,
) -> list[dict[str, Any]]:
    """Energy distance between every pair of arms' talk (arm -> one embedding matrix per
    run), with a p-value from relabelling whole runs between the two arms.

    Each run is subsampled to at most ``per_run`` breaks (fewer when many runs would pool
    more than ``POOLED_BREAKS``), seeded per run. Distances are summed into run × run
    blocks once, so each relabelling costs a (runs × runs) product, not a pass over breaks.
    """
    names = list(breaks)
    runs = [(arm, np.asarray(x, dtype=float)) for arm in names for x in breaks[arm]]
    runs = [(arm, x) for arm, x in runs if x.ndim == 2 and len(x)]
    if runs:
        per_run = max(MIN_BREAKS_PER_RUN, min(per_run, POOLED_BREAKS // len(runs)))
    sampled = []
    for k, (arm, x) in enumerate(runs):
        if len(x) > per_run:
            rng = np.random.default_rng([seed, 2, k])
            x = x[np.sort(rng.choice(len(x), per_run, replace=False))]
        sampled.append((arm, x))
    blocks = _block_sums([x for _, x in sampled])
    sizes = np.array([len(x) for _, x in sampled], dtype=float)
    out = []
    pair = 0
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ia = [k for k, (arm, _) in enumerate(sampled) if arm == a]
            ib = [k for k, (arm, _) in enumerate(sampled) if arm == b]
            row: dict[str, Any] = {"a": a, "b": b, "statistic": None, "p_value": None}
            if ia and ib:
                idx = np.array(ia + ib)
                rng = np.random.default_rng([seed, 4, pair])
                stat, p = _run_energy(
                    blocks[np.ix_(idx, idx)], sizes[idx], len(ia), permutations, rng
                )
                row["statistic"] = stat
                row["p_value"] = p if len(ia) >= 2 and len(ib) >= 2 else None
            row.update(
                runs_a=len(ia),
                runs_b=len(ib),
                breaks_a=int(sizes[ia].sum()) if ia else 0,
                breaks_b=int(sizes[ib].sum()) if ib else 0,
            )
            out.append(row)
            pair += 1
    return out


def _block_sums(samples: Sequence[np.ndarray]) -> np.ndarray:
    """(runs × runs) sums of the Euclidean distances between the breaks of two runs: one
    pooled distance matrix, built a run's rows at a time so it is never held whole."""
    k = len(samples)
    if k == 0:
        return np.zeros((0, 0))
    pooled = np.vstack(samples)
    starts = np.concatenate([[0], np.cumsum([len(x) for x in samples])[:-1]]).astype(int)
    out = np.empty((k, k))
    for i, x in enumerate(samples):
        out[i] = np.add.reduceat(cdist(x, pooled).sum(axis=0), starts)
    return (out + out.T) / 2  # exactly symmetric


def _run_energy(
    blocks: np.ndarray,
    sizes: np.ndarray,
    n_a: int,
    permutations: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Energy distance (V-statistic) of the first ``n_a`` runs' breaks against the rest, and
    its p-value over relabellings of whole runs. With run indicators q: within-a sum q'Bq,
    cross sum q'B1 − q'Bq, within-b sum 1'B1 − 2q'B1 + q'Bq."""
    labels, exact = _labellings(len(sizes), n_a, permutations, rng)
    rowsum = blocks.sum(axis=1)
    total = float(rowsum.sum())
    qb = labels @ blocks
    sxx = np.einsum("ij,ij->i", qb, labels)
    q1 = labels @ rowsum
    sxy = q1 - sxx
    syy = total - 2 * q1 + sxx
    n = labels @ sizes
    m = sizes.sum() - n
    stats = 2 * sxy / (n * m) - sxx / (n * n) - syy / (m * m)
    return float(stats[0]), _p_value(stats, exact)


def _talk_by_run(board: Board) -> dict[str, np.ndarray]:
    """Run id -> the embeddings of all its stations' talk breaks, stacked."""
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for st in board.slices:
        x = board.embeddings(st)
        if len(x):
            parts[st.run_id].append(x)
    return {rid: np.vstack(xs) for rid, xs in parts.items()}


# -- helpers ------------------------------------------------------------------------------------


def _seed(seed: int, *keys: int) -> int:
    """An integer seed derived from ``seed`` and ``keys`` (for helpers that take an int)."""
    return int(np.random.default_rng([seed, *keys]).integers(2**63))


def _finite(values: Sequence[float | None]) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float).reshape(-1)
    return arr[np.isfinite(arr)]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), DIGITS)
