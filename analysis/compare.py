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

The result types are in ``analysis.compare_results`` and the statistics in
``analysis.compare_stats``; this module reads the runs and puts them together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine

from analysis.board import Board
from analysis.compare_results import (
    METHOD,
    PERMUTATIONS,
    ArmResult,
    Comparison,
    Contrast,
    MetricComparison,
)
from analysis.compare_stats import arm_divergence, compare_metrics, compare_values
from analysis.judge import Judge, RuleJudge
from analysis.reader import RunData, engine_of, read_run
from analysis.scoreboard import score

__all__ = [
    "METHOD",
    "ArmResult",
    "Comparison",
    "Contrast",
    "MetricComparison",
    "arm_divergence",
    "compare_metrics",
    "compare_runs",
    "compare_values",
    "metric_names",
    "run_value",
]

_SKIP_KEYS = ("n", "ci95")  # a dimension's copies of its primary metric's n and interval


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


_EMPTY = np.zeros((0, 1))


def _talk_by_run(board: Board) -> dict[str, np.ndarray]:
    """Run id -> the embeddings of all its stations' talk breaks, stacked."""
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for st in board.slices:
        x = board.embeddings(st)
        if len(x):
            parts[st.run_id].append(x)
    return {rid: np.vstack(xs) for rid, xs in parts.items()}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
