"""Reference values for the analysis statistics (``analysis.stats``): intervals, trend,
energy distance, log-odds and the two-sample helpers. The text measures and embeddings are
checked in ``tests/test_text_measures.py``.

Small cases are worked by hand in the comments; randomised checks use fixed seeds and small
sizes so the whole file runs in a few seconds.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from analysis.stats import (
    Estimate,
    bootstrap_ci,
    bootstrap_mean,
    cluster_bootstrap,
    cohens_d,
    energy_distance,
    energy_matrix,
    energy_test,
    hedges_g,
    holm,
    log_odds_arrays,
    log_odds_z,
    permutation_test,
    quantile,
    theil_sen,
    wilson,
)

# --- Estimate, Wilson --------------------------------------------------------------------------


def test_estimate_to_dict() -> None:
    assert Estimate(0.5, 10, (0.2, 0.8)).to_dict() == {"value": 0.5, "n": 10, "ci95": [0.2, 0.8]}
    assert Estimate(None, 0).to_dict() == {"value": None, "n": 0, "ci95": None}


def test_wilson_known_values() -> None:
    # k=0, n=10, z²=3.8415: upper = (z²/n)/(1+z²/n) = 0.38415/1.38415 = 0.2775, lower 0.
    est = wilson(0, 10)
    assert est.value == 0.0 and est.n == 10
    assert est.ci95 == pytest.approx((0.0, 0.2775), abs=1e-4)
    # k=5, n=10: centre 0.5; half = z·√(0.025 + z²/400)/1.38415 = 1.96·0.18602/1.38415 = 0.2634.
    est = wilson(5, 10)
    assert est.value == 0.5
    assert est.ci95 == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 0) == Estimate(None, 0, None)


# --- bootstrap ---------------------------------------------------------------------------------


def test_bootstrap_mean_edges() -> None:
    assert bootstrap_mean([]) == Estimate(None, 0, None)
    assert bootstrap_mean([3.0]) == Estimate(3.0, 1, None)
    est = bootstrap_mean([1.0, 2.0, 3.0, 4.0], seed=1)
    assert est.value == 2.5 and est.n == 4
    assert est.ci95 is not None and 1.0 <= est.ci95[0] <= 2.5 <= est.ci95[1] <= 4.0
    assert bootstrap_mean([1.0, 2.0, 3.0, 4.0], seed=1) == est  # seeded: same result


def test_bootstrap_ci_generic_matches_vectorised() -> None:
    values = np.random.default_rng(3).normal(size=25)
    slow = bootstrap_ci(values, lambda a: float(np.mean(a)), seed=7, n_boot=500)
    fast = bootstrap_ci(values, lambda a: a.mean(axis=-1), seed=7, n_boot=500, vectorized=True)
    assert slow == pytest.approx(fast)
    assert bootstrap_ci([1.0], np.mean, seed=0) is None


def test_bootstrap_mean_coverage() -> None:
    # 300 samples of 40 from N(0, 1): the percentile interval should cover 0 about 95% of
    # the time (percentile intervals run a little narrow for n = 40).
    covered = 0
    for seed in range(300):
        sample = np.random.default_rng(10_000 + seed).normal(size=40)
        ci = bootstrap_mean(sample, seed=seed).ci95
        assert ci is not None
        covered += ci[0] <= 0.0 <= ci[1]
    assert 0.90 <= covered / 300 <= 0.98


def test_cluster_bootstrap_wider_for_correlated_clusters() -> None:
    # 12 runs of 25 values; each run shares a strong run effect, so values within a run are
    # correlated and the naive bootstrap (values as independent) is far too narrow.
    rng = np.random.default_rng(4)
    clusters = [list(rng.normal() + 0.1 * rng.normal(size=25)) for _ in range(12)]
    flat = [v for c in clusters for v in c]
    naive = bootstrap_mean(flat, seed=0)
    clustered = cluster_bootstrap(clusters, seed=0)
    assert clustered.value == pytest.approx(np.mean(flat))
    assert clustered.n == 300
    assert naive.ci95 is not None and clustered.ci95 is not None
    width = clustered.ci95[1] - clustered.ci95[0]
    assert width > 2.5 * (naive.ci95[1] - naive.ci95[0])
    assert clustered.ci95[0] <= clustered.value <= clustered.ci95[1]


def test_cluster_bootstrap_edges() -> None:
    assert cluster_bootstrap([]) == Estimate(None, 0, None)
    assert cluster_bootstrap([[], []]) == Estimate(None, 0, None)
    # one non-empty cluster: pooled mean (1+2+3)/3 = 2, no interval
    assert cluster_bootstrap([[1.0, 2.0, 3.0], []]) == Estimate(2.0, 3, None)
    # pooled, not mean of means: (1 + 2 + 3 + 10)/4 = 4
    assert cluster_bootstrap([[1.0, 2.0, 3.0], [10.0]], seed=1).value == 4.0


def test_quantile() -> None:
    # numpy linear: position q·(n−1); [1,2,3,4] at 0.5 → 2.5, at 0.25 → 1 + 0.75 = 1.75
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.25) == 1.75
    assert quantile([], 0.5) is None


# --- Theil–Sen ---------------------------------------------------------------------------------


def _theil_sen_brute(x: list[float], y: list[float]) -> tuple[float, float]:
    slopes = sorted(
        (y[j] - y[i]) / (x[j] - x[i])
        for i in range(len(x))
        for j in range(i + 1, len(x))
        if x[i] != x[j]
    )
    slope = float(np.median(slopes))
    return slope, float(np.median([b - slope * a for a, b in zip(x, y, strict=True)]))


def test_theil_sen_line_with_outlier() -> None:
    # y = 2x + 1 for x = 0..5, but y(3) = 100. 15 pairs: 10 clean ones have slope 2; the 5
    # with the outlier: 99/3=33, 97/2=48.5, 95/1=95, (9−100)/1=−91, (11−100)/2=−44.5.
    # Sorted: −91, −44.5, 2 ×10, 33, 48.5, 95 → the 8th (median) is 2.
    # Intercept: median(y − 2x) = median(1, 1, 1, 95, 1, 1) = 1.
    x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    y = [1.0, 3.0, 5.0, 100.0, 9.0, 11.0]
    assert theil_sen(x, y) == (2.0, 1.0)


def test_theil_sen_matches_definition_and_edges() -> None:
    rng = np.random.default_rng(8)
    x = list(rng.integers(0, 6, size=30).astype(float))  # ties in x are skipped
    y = list(rng.normal(size=30) + 0.5 * np.array(x))
    assert theil_sen(x, y) == pytest.approx(_theil_sen_brute(x, y))
    assert theil_sen([2.0, 2.0, 2.0], [1.0, 5.0, 3.0]) == (0.0, 3.0)  # no distinct x
    slope, intercept = theil_sen([], [])
    assert slope == 0.0 and math.isnan(intercept)


# --- energy distance ---------------------------------------------------------------------------


def test_energy_distance_by_hand() -> None:
    # {0} vs {1}: 2·|0−1| − 0 − 0 = 2
    assert energy_distance(np.array([0.0]), np.array([1.0])) == pytest.approx(2.0)
    # {0, 2} vs {1}: cross mean (1+1)/2 = 1; within x over 4 pairs (0,2,2,0)/4 = 1; → 2 − 1 = 1
    assert energy_distance(np.array([0.0, 2.0]), np.array([1.0])) == pytest.approx(1.0)
    # 2-D: {(0,0),(3,4)} vs {(0,0)}: cross (0+5)/2 = 2.5; within x (0+5+5+0)/4 = 2.5 → 2.5
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert energy_distance(x, np.array([[0.0, 0.0]])) == pytest.approx(2.5)
    assert energy_distance(x, x[::-1]) == pytest.approx(0.0, abs=1e-12)


def test_energy_test_separation() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(size=(40, 3))
    far = rng.normal(size=(40, 3)) + 2.0
    same = rng.normal(size=(40, 3))
    stat, p = energy_test(a, far, permutations=199, seed=1)
    assert stat == pytest.approx(energy_distance(a, far))
    assert 0 < p < 0.05
    assert p == 1 / 200  # nothing beats the observed labelling
    _, p_same = energy_test(a, same, permutations=199, seed=1)
    assert 0.05 < p_same <= 1.0
    # identical samples: statistic 0 and every relabelling ties or beats it → p = 1
    stat0, p0 = energy_test(a, a.copy(), permutations=99, seed=2)
    assert stat0 == pytest.approx(0.0, abs=1e-12) and p0 == 1.0
    assert energy_test(a, far, seed=5) == energy_test(a, far, seed=5)


def test_energy_test_fast() -> None:
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(300, 50)), rng.normal(size=(300, 50))
    start = time.perf_counter()
    energy_test(x, y, permutations=199, seed=0)
    assert time.perf_counter() - start < 1.0  # measured ~0.02–0.05 s; 0.5 s is the budget


def test_energy_matrix_flags_the_different_group() -> None:
    rng = np.random.default_rng(13)
    groups = {
        "a": rng.normal(size=(30, 4)),
        "b": rng.normal(size=(30, 4)),
        "c": rng.normal(size=(30, 4)) + 1.5,
    }
    rows = energy_matrix(groups, permutations=99, seed=3)
    assert [(a, b) for a, b, _, _ in rows] == [("a", "b"), ("a", "c"), ("b", "c")]
    p = {(a, b): pv for a, b, _, pv in rows}
    assert p["a", "b"] > 0.05
    assert p["a", "c"] < 0.05 and p["b", "c"] < 0.05
    # no subsampling here, so the statistics are the plain energy distances
    for a, b, stat, _ in rows:
        assert stat == pytest.approx(energy_distance(groups[a], groups[b]))
    assert energy_matrix(groups, permutations=99, seed=3) == rows


def test_energy_matrix_subsamples_deterministically() -> None:
    rng = np.random.default_rng(14)
    groups = {name: rng.normal(size=(25, 2)) for name in "xyz"}
    groups["empty"] = np.zeros((0, 2))
    first = energy_matrix(groups, permutations=19, seed=9, max_points=10)
    assert first == energy_matrix(groups, permutations=19, seed=9, max_points=10)
    assert len(first) == 6
    for a, b, stat, p in first:
        if "empty" in (a, b):
            assert math.isnan(stat) and math.isnan(p)
        else:
            assert 1 / 20 <= p <= 1.0 and stat > 0


# --- Fightin' Words log-odds -------------------------------------------------------------------


def test_log_odds_z_by_hand() -> None:
    # counts a:3 b:1 (n_i = 4), others a:1 b:3 (n_j = 4), prior a:1 b:1 → α0 = 2, α_a = 1.
    # δ_a = log((3+1)/(4+2−3−1)) − log((1+1)/(4+2−1−1)) = log 2 − log ½ = 2 log 2 = 1.3863
    # var = 1/(3+1) + 1/(1+1) = 0.75 → z = 1.3863/0.8660 = 1.6008; b is the mirror image.
    out = log_odds_z({"a": 3, "b": 1}, {"a": 1, "b": 3}, {"a": 1.0, "b": 1.0})
    assert out["a"] == pytest.approx((2 * math.log(2), 1.6007548))
    assert out["b"] == pytest.approx((-2 * math.log(2), -1.6007548))
    # prior_total = 4 scales α_a to 2: δ = log(5/3) − log(3/5) = 1.0217; var = 1/5 + 1/3
    # = 0.5333 → z = 1.0217/0.7303 = 1.3990
    out = log_odds_z({"a": 3, "b": 1}, {"a": 1, "b": 3}, {"a": 1.0, "b": 1.0}, prior_total=4)
    assert out["a"] == pytest.approx((2 * math.log(5 / 3), 1.3989536))


def test_log_odds_z_floor_for_unseen_prior() -> None:
    # "c" has no prior mass: α_c = 0.01, α0 stays 2. n_i = 5, n_j = 4 (others lack "c"):
    # δ = log((1.01)/(5+2−1−0.01)) − log(0.01/(4+2−0−0.01))
    out = log_odds_z({"a": 3, "b": 1, "c": 1}, {"a": 1, "b": 3}, {"a": 1.0, "b": 1.0})
    delta = math.log(1.01 / 5.99) - math.log(0.01 / 5.99)
    z = delta / math.sqrt(1 / 1.01 + 1 / 0.01)
    assert out["c"] == pytest.approx((delta, z))


def test_log_odds_arrays_match_mapping_version() -> None:
    # same hand example as above, as arrays with α already scaled (α0 = Σα = 2)
    delta, z = log_odds_arrays(np.array([3.0, 1.0]), 4.0, np.array([1.0, 3.0]), 4.0, np.ones(2))
    assert delta == pytest.approx([2 * math.log(2), -2 * math.log(2)])
    assert z == pytest.approx([1.6007548, -1.6007548])


# --- two-sample helpers ------------------------------------------------------------------------


def test_permutation_test() -> None:
    # identical samples: observed difference 0, every relabelling ties → p = 1
    assert permutation_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], permutations=99) == 1.0
    # {0,0,0} vs {1,1,1}: of the C(6,3) = 20 splits only 2 reach |diff| = 1 → p ≈ 0.1
    p = permutation_test([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], permutations=9999, seed=1)
    assert p == pytest.approx(0.1, abs=0.012)
    rng = np.random.default_rng(15)
    assert permutation_test(rng.normal(size=30), rng.normal(size=30) + 2, permutations=999) == (
        1 / 1000
    )
    assert math.isnan(permutation_test([], [1.0]))


def test_holm_by_hand() -> None:
    # sorted p: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # capped: 0.5·2 = 1.0, then max(1.0, 0.6) = 1.0
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([]) == []


def test_cohens_d_and_hedges_g() -> None:
    # means 2 and 4, both variances 1 (ddof 1) → pooled SD 1 → d = −2;
    # J = 1 − 3/(4·6 − 9) = 0.8 → g = −1.6
    assert cohens_d([1.0, 2.0, 3.0], [3.0, 4.0, 5.0]) == pytest.approx(-2.0)
    assert hedges_g([1.0, 2.0, 3.0], [3.0, 4.0, 5.0]) == pytest.approx(-1.6)
    assert cohens_d([1.0, 1.0], [2.0, 2.0]) == 0.0  # both SDs zero
    assert hedges_g([1.0, 1.0], [2.0, 2.0]) == 0.0
