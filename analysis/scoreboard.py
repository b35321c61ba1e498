"""The persona scoreboard: every registered metric for every station, and how far apart
the stations' talk is. ``analyze(db, runs)`` is the Python API; ``personafm analyze``
prints it and writes ``scoreboard.json`` (schema: ``docs/scoreboard.md``) and a report.

Per station, each dimension is one object. A metric that is an ``Estimate`` is
written as ``key`` (its value), ``key_ci95`` and ``key_n``; a dimension's primary
metric also sets the dimension's ``ci95`` and ``n``; a dimension measured from a
judge's verdicts names the ``judge``. Divergence is the energy distance between
two stations' talk embeddings with a permutation p-value, for every pair.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine

from analysis.board import Board
from analysis.embed import map_2d
from analysis.judge import Judge
from analysis.metrics import Metric, StationSlice, registered
from analysis.reader import RunData, engine_of, read_run
from analysis.stats import Estimate, energy_matrix

SCHEMA_VERSION = 1
PERMUTATIONS = 199
MAP_POINTS = 4000
POOLED_POINTS = 6000  # at most this many talk breaks in one divergence distance matrix


@dataclass(slots=True)
class Scoreboard:
    """The scoreboard's numbers (``to_json``) and what the report plots besides them."""

    runs: list[dict[str, Any]]
    judge: str
    stations: list[dict[str, Any]]
    divergence: list[dict[str, Any]]
    map_points: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, dict[str, list[tuple[float, float]]]] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "runs": self.runs,
            "judge": self.judge,
            "stations": self.stations,
            "divergence": self.divergence,
            "divergence_method": {
                "statistic": "energy distance (V-statistic) of TF-IDF/LSA talk embeddings",
                "p_value": f"label permutation, {PERMUTATIONS} permutations",
                "names_masked": True,
            },
        }

    def station(self, label: str) -> dict[str, Any]:
        for s in self.stations:
            if s["label"] == label:
                return s
        raise KeyError(f"no station {label!r} on the scoreboard")


def analyze(
    db: str | Engine,
    runs: Sequence[str],
    judge: Judge | None = None,
    seed: int = 0,
    dimensions: Sequence[str] | None = None,
) -> Scoreboard:
    """The scoreboard of ``runs`` (ids, prefixes or ``latest``) stored in ``db``."""
    engine = engine_of(db)
    data = [read_run(engine, r) for r in dict.fromkeys(runs)]
    return score(data, judge, seed, dimensions)


def score(
    runs: Sequence[RunData],
    judge: Judge | None = None,
    seed: int = 0,
    dimensions: Sequence[str] | None = None,
) -> Scoreboard:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    board = Board.of(runs, judge, seed)
    timings["read, embed and judge"] = time.perf_counter() - t0
    metrics = registered(dimensions)
    stations = []
    for st in board.slices:
        stations.append(_station_entry(st, board, metrics, timings))
    t0 = time.perf_counter()
    divergence = _divergence(board)
    timings["divergence"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    points = _map(board)
    series = {board.label(st): _series(st) for st in board.slices}
    timings["map and series"] = time.perf_counter() - t0
    return Scoreboard(
        runs=[_run_entry(r) for r in runs],
        judge=board.judge.name,
        stations=stations,
        divergence=divergence,
        map_points=points,
        series=series,
        timings_s=timings,
    )


def _run_entry(r: RunData) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "name": r.run.name,
        "status": r.state,
        "finished": r.finished,  # False: the numbers are of the rows so far
        "seed": r.run.seed,
        "sim_hours_planned": r.run.sim_hours,
        "sim_hours_done": round(r.sim_hours_done, 4),
    }


def _station_entry(
    st: StationSlice, board: Board, metrics: list[Metric], timings: dict[str, float]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "run_id": st.run_id,
        "station": st.name,
        "label": board.label(st),
        "provider": st.info.provider,
        "model": st.info.model,
        "system_prompt_sha256": st.info.system_prompt_sha256,
        "harness": st.run.harness(st.name),
        "talk_breaks": len(st.talk),
    }
    for m in metrics:
        t0 = time.perf_counter()
        value = m.fn(st, board)
        timings[m.dimension] = timings.get(m.dimension, 0.0) + time.perf_counter() - t0
        if isinstance(value, list) and m.primary and m.dimension not in entry:
            entry[m.dimension] = value  # a list-valued dimension (the tic catalog) is the list
            continue
        dim = entry.setdefault(m.dimension, {})
        if not isinstance(dim, dict):
            continue
        if isinstance(value, Estimate):
            dim[m.key] = _num(value.value)
            dim[f"{m.key}_ci95"] = [_num(v) for v in value.ci95] if value.ci95 else None
            dim[f"{m.key}_n"] = value.n
            if m.primary:
                dim["ci95"], dim["n"] = dim[f"{m.key}_ci95"], value.n
        else:
            dim[m.key] = value
        if m.judged:
            dim["judge"] = board.judge.name
    return entry


DIGITS = 6  # decimals kept: multi-threaded linear algebra differs in the last bits


def _num(v: float | None) -> float | None:
    if v is None or not np.isfinite(v):
        return None
    return round(float(v), DIGITS)


def _divergence(board: Board) -> list[dict[str, Any]]:
    groups = {board.label(st): board.embeddings(st) for st in board.slices}
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if len(groups) < 2:
        return []
    per_group = max(30, min(200, POOLED_POINTS // len(groups)))
    rows = energy_matrix(groups, PERMUTATIONS, board.seed, max_points=per_group)
    return [
        {
            "a": a,
            "b": b,
            "statistic": _num(stat),
            "p_value": _num(p),
            "n_a": min(len(groups[a]), per_group),
            "n_b": min(len(groups[b]), per_group),
        }
        for a, b, stat, p in rows
    ]


def _map(board: Board) -> list[dict[str, Any]]:
    """Talk breaks on a 2-D map (a seeded sample of at most ``MAP_POINTS``)."""
    labels, vectors = [], []
    for st in board.slices:
        v = board.embeddings(st)
        labels.extend([board.label(st)] * len(v))
        vectors.append(v)
    if not labels:
        return []
    x = np.vstack(vectors)
    if len(labels) > MAP_POINTS:
        keep = np.sort(np.random.default_rng(board.seed).choice(len(labels), MAP_POINTS, False))
        x, labels = x[keep], [labels[i] for i in keep]
    xy = map_2d(x, seed=board.seed)
    return [
        {"label": lab, "x": float(p[0]), "y": float(p[1])}
        for lab, p in zip(labels, xy, strict=True)
    ]


def _series(st: StationSlice) -> dict[str, list[tuple[float, float]]]:
    """Balance (USD) and AQH over time, for the report's plots."""
    return {
        "balance_usd": [(e.sim_time_s, e.balance_after_cents / 100) for e in st.ledger],
        "aqh": [(q.quarter_start_s, float(q.aqh)) for q in st.ratings],
    }
