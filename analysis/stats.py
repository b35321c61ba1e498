"""Small, honest statistics for measuring personas from stored runs. Longer than 400 lines
because it is one toolbox of related estimators, each a few dozen lines, that share private
helpers (array coercion, the chunked permutation scheme); callers import the few they need
from this one place.

Every number the analysis reports should carry its sample size and, where one makes sense, a
95% interval, so that a difference between two DJs can be told apart from noise. These are the
building blocks: interval estimates (Wilson, bootstrap, cluster bootstrap), robust trend
(Theil–Sen), distribution tests for embeddings (energy distance with permutation p-values),
distinctive words (Fightin' Words log-odds), and the usual two-sample helpers.

All functions are pure; all randomness comes from an explicit seed through
``np.random.default_rng``, so a report computed twice gives the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist
from threadpoolctl import threadpool_limits

_Z95 = 1.959964
_ALPHA_FLOOR = 0.01  # Dirichlet pseudo-count for a word the prior gives no mass
_CHUNK = 2_000_000  # most elements in one block of permuted labels (bounds memory)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A measured value with its sample size and optional 95% interval.

    ``value`` is None when nothing was measured (``n == 0``).
    """

    value: float | None
    n: int
    ci95: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: {"value", "n", "ci95": [lo, hi] or None}."""
        return {
            "value": self.value,
            "n": self.n,
            "ci95": [self.ci95[0], self.ci95[1]] if self.ci95 is not None else None,
        }


# --- intervals -------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = _Z95) -> Estimate:
    """Proportion k/n with its Wilson score interval (good even for k = 0 or k = n)."""
    if n <= 0:
        return Estimate(None, 0, None)
    if not 0 <= k <= n:
        raise ValueError(f"k={k} outside 0..n={n}")
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return Estimate(p, n, (max(0.0, centre - half), min(1.0, centre + half)))


def _as_1d(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    stat: Callable[[np.ndarray], Any],
    seed: int = 0,
    n_boot: int = 2000,
    vectorized: bool = False,
) -> tuple[float, float] | None:
    """Percentile bootstrap 95% interval of ``stat`` over ``values``; None for fewer than 2.

    Resample indices are drawn once as an (n_boot × n) matrix. With ``vectorized=True``,
    ``stat`` receives that whole matrix of resamples and must reduce along the last axis,
    returning n_boot values (like scipy's ``bootstrap``); otherwise it is called per resample.
    Both paths give the same interval for the same seed.
    """
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    arr = _as_1d(values)
    if arr.size < 2:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_boot, arr.size))
    samples = arr[idx]
    if vectorized:
        stats = np.asarray(stat(samples), dtype=float).reshape(-1)
    else:
        stats = np.fromiter((float(stat(row)) for row in samples), dtype=float, count=n_boot)
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return float(lo), float(hi)


def bootstrap_mean(values: Sequence[float], seed: int = 0, n_boot: int = 2000) -> Estimate:
    """Mean with a percentile bootstrap 95% interval (no interval for a single value)."""
    arr = _as_1d(values)
    if arr.size == 0:
        return Estimate(None, 0, None)
    ci = bootstrap_ci(arr, lambda a: a.mean(axis=-1), seed=seed, n_boot=n_boot, vectorized=True)
    return Estimate(float(arr.mean()), int(arr.size), ci)


def cluster_bootstrap(
    clusters: Sequence[Sequence[float]], seed: int = 0, n_boot: int = 2000
) -> Estimate:
    """Pooled mean with a 95% interval from resampling whole clusters (e.g. runs).

    Values inside one run are not independent, so the run is the unit that is resampled with
    replacement; each resample's statistic is the pooled mean of all values of the chosen
    clusters. Empty clusters are dropped first. ``n`` counts values, not clusters. With only
    one non-empty cluster there is no interval.
    """
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    arrays = [_as_1d(c) for c in clusters]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return Estimate(None, 0, None)
    sums = np.array([a.sum() for a in arrays])
    sizes = np.array([a.size for a in arrays], dtype=float)
    n = int(sizes.sum())
    value = float(sums.sum() / n)
    if len(arrays) < 2:
        return Estimate(value, n, None)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arrays), size=(n_boot, len(arrays)))
    stats = sums[idx].sum(axis=1) / sizes[idx].sum(axis=1)
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return Estimate(value, n, (float(lo), float(hi)))


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation (numpy's default); None when empty."""
    arr = _as_1d(values)
    if arr.size == 0:
        return None
    return float(np.quantile(arr, q))


# --- trend -----------------------------------------------------------------------------------


def theil_sen(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Robust line fit: (slope, intercept).

    slope = median of (y_j − y_i)/(x_j − x_i) over pairs i < j with x_i != x_j;
    intercept = median(y − slope·x). With fewer than two distinct x values there is no slope:
    returns (0.0, median(y)) (nan intercept for empty input). Uses O(n²) memory.
    Note scipy's ``theilslopes`` uses median(y) − slope·median(x) for the intercept instead.
    """
    xa, ya = _as_1d(x), _as_1d(y)
    if xa.size != ya.size:
        raise ValueError("x and y differ in length")
    if xa.size == 0:
        return 0.0, math.nan
    i, j = np.triu_indices(xa.size, k=1)
    dx = xa[j] - xa[i]
    keep = dx != 0
    if not keep.any():
        return 0.0, float(np.median(ya))
    slope = float(np.median((ya[j] - ya[i])[keep] / dx[keep]))
    return slope, float(np.median(ya - slope * xa))


# --- energy distance -------------------------------------------------------------------------


def _as_2d(a: np.ndarray | Sequence[float]) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError("expected a 1-D or 2-D array")
    return arr


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Energy distance (Székely & Rizzo), V-statistic form, Euclidean.

    2·mean‖xi−yj‖ − mean‖xi−xk‖ − mean‖yi−yk‖, means over all nm, n², m² pairs (the zero
    diagonal included). Zero iff the two samples are the same multiset; nan if one is empty.
    """
    xa, ya = _as_2d(x), _as_2d(y)
    if xa.shape[1] != ya.shape[1]:
        raise ValueError("x and y have different dimensions")
    if len(xa) == 0 or len(ya) == 0:
        return math.nan
    return float(2 * cdist(xa, ya).mean() - cdist(xa, xa).mean() - cdist(ya, ya).mean())


def _energy_perm(
    d: np.ndarray, n: int, permutations: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Energy statistic and permutation p-value for rows 0..n-1 vs n..N-1 of distances ``d``.

    Labels are an indicator matrix P (one row per labelling, row 0 the observed one). With
    PD = P @ D and column sums c: within-x sums = rowsum(PD·P), cross sums = rowsum(PD) −
    within-x, within-y sums = (1−P)·c − cross. One matrix product per block of labellings.
    """
    big_n = d.shape[0]
    m = big_n - n
    colsum = d.sum(axis=0)
    base = np.zeros(big_n)
    base[:n] = 1.0
    rows = permutations + 1
    chunk = max(1, _CHUNK // max(big_n, 1))
    stats = np.empty(rows)
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        p = np.tile(base, (stop - start, 1))
        if start == 0:
            rng.permuted(p[1:], axis=1, out=p[1:])
        else:
            rng.permuted(p, axis=1, out=p)
        pd = p @ d
        sxx = np.einsum("ij,ij->i", pd, p)
        sxy = pd.sum(axis=1) - sxx
        syy = (1.0 - p) @ colsum - sxy
        stats[start:stop] = 2 * sxy / (n * m) - sxx / (n * n) - syy / (m * m)
    observed = float(stats[0])
    # A relabelling equal to the observed one can differ from it by rounding: count it as ≥.
    tol = 1e-9 * max(abs(observed), 1e-12)
    exceed = int(np.count_nonzero(stats[1:] >= observed - tol))
    return observed, (1 + exceed) / (1 + permutations)


def energy_test(
    x: np.ndarray, y: np.ndarray, permutations: int = 199, seed: int = 0
) -> tuple[float, float]:
    """(energy distance, permutation p-value) for "x and y come from one distribution".

    p = (1 + #{permuted statistic ≥ observed}) / (1 + permutations), from one pooled distance
    matrix with the label permutations vectorised. (nan, nan) if either sample is empty.
    """
    xa, ya = _as_2d(x), _as_2d(y)
    if xa.shape[1] != ya.shape[1]:
        raise ValueError("x and y have different dimensions")
    if len(xa) == 0 or len(ya) == 0:
        return math.nan, math.nan
    pooled = np.vstack([xa, ya])
    d = cdist(pooled, pooled)
    return _energy_perm(d, len(xa), permutations, np.random.default_rng(seed))


def energy_matrix(
    groups: Mapping[str, np.ndarray],
    permutations: int = 199,
    seed: int = 0,
    max_points: int = 200,
) -> list[tuple[str, str, float, float]]:
    """Energy test for every pair of groups: [(a, b, statistic, p_value)], a before b.

    Each group is first subsampled (without replacement) to at most ``max_points`` rows with
    ``default_rng([seed, 0, group index])``; then one pooled distance matrix is built for all
    sampled points (memory: 8·N² bytes for N sampled points in total) and each pair indexes
    into it. Pair k (in output order) uses ``default_rng([seed, 1, k])`` for its permutations.
    Pairs with an empty group get (nan, nan).
    Measured: 100 groups × 50 points (d = 50), 199 permutations, 4950 pairs: 2.6–3.0 s on a
    busy 2-core machine (0.9 s of it the 5000² distance matrix). BLAS is held to one thread
    for the per-pair products: with two, each tiny product cost 5–10× more.
    """
    names = list(groups)
    arrays = [_as_2d(groups[name]) for name in names]
    dims = {a.shape[1] for a in arrays if len(a)}
    if len(dims) > 1:
        raise ValueError("groups have different dimensions")
    sampled = []
    for gi, arr in enumerate(arrays):
        if len(arr) > max_points:
            rng = np.random.default_rng([seed, 0, gi])
            arr = arr[np.sort(rng.choice(len(arr), size=max_points, replace=False))]
        sampled.append(arr)
    sizes = [len(a) for a in sampled]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    nonempty = [a for a in sampled if len(a)]
    pooled = np.vstack(nonempty) if nonempty else np.zeros((0, 1))
    d = cdist(pooled, pooled)
    with threadpool_limits(limits=1, user_api="blas"):  # tiny products: threads only cost here
        return _pairs(names, sizes, offsets, d, permutations, seed)


def _pairs(
    names: list[str],
    sizes: list[int],
    offsets: np.ndarray,
    d: np.ndarray,
    permutations: int,
    seed: int,
) -> list[tuple[str, str, float, float]]:
    """The energy test of every pair of groups, pair k seeded with [seed, 1, k]."""
    out: list[tuple[str, str, float, float]] = []
    k = 0
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if sizes[i] == 0 or sizes[j] == 0:
                out.append((names[i], names[j], math.nan, math.nan))
            else:
                idx = np.concatenate(
                    [
                        np.arange(offsets[i], offsets[i + 1]),
                        np.arange(offsets[j], offsets[j + 1]),
                    ]
                )
                sub = d[np.ix_(idx, idx)]
                rng = np.random.default_rng([seed, 1, k])
                stat, p = _energy_perm(sub, sizes[i], permutations, rng)
                out.append((names[i], names[j], stat, p))
            k += 1
    return out


# --- distinctive words -----------------------------------------------------------------------


def log_odds_arrays(
    y_i: np.ndarray,
    n_i: float,
    y_j: np.ndarray,
    n_j: float,
    alpha: np.ndarray,
    alpha0: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Fightin' Words: (δ, z) arrays for word counts y_i (of n_i) vs y_j (of n_j).

    ``alpha`` holds the per-word prior pseudo-counts, already scaled; α0 defaults to their
    sum. Entries of ``alpha`` that are zero get 0.01 (α0 unchanged). See ``log_odds_z``.
    """
    yi = np.asarray(y_i, dtype=float)
    yj = np.asarray(y_j, dtype=float)
    a = np.asarray(alpha, dtype=float)
    a0 = float(a.sum()) if alpha0 is None else float(alpha0)
    a = np.where(a > 0, a, _ALPHA_FLOOR)
    delta = np.log((yi + a) / (n_i + a0 - yi - a)) - np.log((yj + a) / (n_j + a0 - yj - a))
    z = delta / np.sqrt(1.0 / (yi + a) + 1.0 / (yj + a))
    return delta, z


def log_odds_z(
    counts: Mapping[str, int],
    others: Mapping[str, int],
    prior: Mapping[str, float],
    prior_total: float | None = None,
) -> dict[str, tuple[float, float]]:
    """Weighted log-odds with an informative Dirichlet prior ("Fightin' Words").

    Monroe, Colaresi & Quinn (2008). For each word w of ``counts``: α_w = prior[w]·α0/Σprior,
    α0 = ``prior_total`` (default Σprior as given);
    δ = log((y_i+α_w)/(n_i+α0−y_i−α_w)) − log((y_j+α_w)/(n_j+α0−y_j−α_w)),
    var = 1/(y_i+α_w) + 1/(y_j+α_w); returns {w: (δ, δ/√var)}. A word whose α_w is zero (or
    missing from the prior) gets α_w = 0.01 so the logs stay finite; α0 is not changed for it.
    """
    words = list(counts)
    if not words:
        return {}
    prior_sum = float(sum(prior.values()))
    alpha0 = float(prior_total) if prior_total is not None else prior_sum
    scale = alpha0 / prior_sum if prior_sum > 0 else 0.0
    alpha = np.array([float(prior.get(w, 0.0)) * scale for w in words])
    delta, z = log_odds_arrays(
        np.array([float(counts[w]) for w in words]),
        float(sum(counts.values())),
        np.array([float(others.get(w, 0)) for w in words]),
        float(sum(others.values())),
        alpha,
        alpha0,
    )
    return {w: (float(d), float(v)) for w, d, v in zip(words, delta, z, strict=True)}


# --- two-sample helpers ----------------------------------------------------------------------


def permutation_test(
    a: Sequence[float], b: Sequence[float], permutations: int = 9999, seed: int = 0
) -> float:
    """Two-sided permutation p-value for a difference in means.

    p = (1 + #{|permuted difference| ≥ |observed|}) / (1 + permutations); nan if a sample is
    empty. Labellings are drawn in vectorised blocks.
    """
    aa, ba = _as_1d(a), _as_1d(b)
    if aa.size == 0 or ba.size == 0:
        return math.nan
    pooled = np.concatenate([aa, ba])
    total = pooled.sum()
    na, nb = aa.size, ba.size
    observed = abs(aa.mean() - ba.mean())
    tol = 1e-9 * max(observed, 1e-12)
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK // pooled.size)
    exceed = 0
    for start in range(0, permutations, chunk):
        rows = min(chunk, permutations - start)
        perm = rng.permuted(np.tile(pooled, (rows, 1)), axis=1)
        sum_a = perm[:, :na].sum(axis=1)
        diff = np.abs(sum_a / na - (total - sum_a) / nb)
        exceed += int(np.count_nonzero(diff >= observed - tol))
    return (1 + exceed) / (1 + permutations)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in input order (monotone, capped at 1)."""
    p = _as_1d(p_values)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]


def cohens_d(a: Sequence[float], b: Sequence[float]) -> float:
    """(mean a − mean b) / pooled SD (ddof 1). 0.0 when the pooled SD is zero or undefined
    (both samples constant, or fewer than 3 values in all); nan if a sample is empty."""
    aa, ba = _as_1d(a), _as_1d(b)
    if aa.size == 0 or ba.size == 0:
        return math.nan
    dof = aa.size + ba.size - 2
    if dof <= 0:
        return 0.0
    ss = ((aa - aa.mean()) ** 2).sum() + ((ba - ba.mean()) ** 2).sum()
    sd = math.sqrt(ss / dof)
    if sd == 0:
        return 0.0
    return float((aa.mean() - ba.mean()) / sd)


def hedges_g(a: Sequence[float], b: Sequence[float]) -> float:
    """Cohen's d with the small-sample correction J = 1 − 3/(4(n_a+n_b) − 9)."""
    d = cohens_d(a, b)
    n = len(a) + len(b)
    if math.isnan(d) or d == 0.0 or n < 3:
        return d
    return d * (1.0 - 3.0 / (4.0 * n - 9.0))
