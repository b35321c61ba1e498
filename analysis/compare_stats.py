"""The statistics of an A/B comparison, on one value per run: each arm's mean with a
cluster-bootstrap interval over runs, each contrast with the control by a permutation test
that relabels whole runs (exact when the relabellings are few) and Hedges' g, Holm across
the metrics; and the energy distance between arms' talk with a p-value from relabelling
whole runs. ``analysis.compare`` describes the method; ``compare_runs`` feeds these.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from analysis.compare_results import (
    BREAKS_PER_RUN,
    MIN_BREAKS_PER_RUN,
    N_BOOT,
    PERMUTATIONS,
    POOLED_BREAKS,
    ArmResult,
    Contrast,
    MetricComparison,
)
from analysis.stats import cluster_bootstrap, hedges_g, holm


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


def _seed(seed: int, *keys: int) -> int:
    """An integer seed derived from ``seed`` and ``keys`` (for helpers that take an int)."""
    return int(np.random.default_rng([seed, *keys]).integers(2**63))


def _finite(values: Sequence[float | None]) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float).reshape(-1)
    return arr[np.isfinite(arr)]
