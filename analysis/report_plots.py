"""The scoreboard report's plots, each a matplotlib ``Figure`` (or None when there is
nothing to draw): money and audience over time, forest plots of each dimension, the
divergence heatmap, the talk map and the tic timeline. Long series are thinned the same
way every time (``_thin``), so the SVG stays bounded and deterministic.
``analysis.report`` turns the figures into the page's sections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import PercentFormatter

from analysis.html_page import _fmt
from analysis.svg_figures import _clean, _plain

if TYPE_CHECKING:
    from analysis.scoreboard import Scoreboard

HOUR_S = 3600.0
LEGEND_MAX = 12  # more stations than this: no legend (colours match the headline table)
ANNOTATE_MAX = 20  # more stations than this: no text in the divergence cells
VALUE_MAX = 12  # up to this many stations the divergence cells also show the statistic
LINE_BUCKETS = 400  # a series is thinned to the min and max of at most this many buckets
LINE_VERTICES = 30_000  # ...and fewer when many lines share a plot (size of the SVG)
TICS_PLOTTED = 3  # top tics per station on the timeline
HEAT_LEVELS = 12  # colour steps of the divergence heatmap (one SVG path per step)


def _lines(
    lines: Mapping[str, Sequence[Sequence[float]]],
    colors: Mapping[str, str],
    ylabel: str,
    steps: bool = False,
    markers: bool = False,
) -> Figure | None:
    """One line per station over simulated hours; None when no station has a point."""
    per_line = LINE_VERTICES // max(1, len(lines)) // (4 if steps else 2)
    buckets = max(50, min(LINE_BUCKETS, per_line))
    data = {lab: _thin(points, buckets) for lab, points in lines.items()}
    data = {lab: xy for lab, xy in data.items() if len(xy[0])}
    if not data:
        return None
    many = len(data) > LEGEND_MAX
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for lab, (x, y) in data.items():
        ax.plot(
            x / HOUR_S,
            y,
            color=colors.get(lab, "#888888"),
            linewidth=0.6 if many else 1.1,
            drawstyle="steps-post" if steps else "default",
            marker="o" if markers else None,
            markersize=0 if many else 2.5,
            label=_plain(lab),
        )
    ax.set_xlabel("simulated hours")
    ax.set_ylabel(ylabel)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    if not many:
        ax.legend(loc="best", frameon=False)
    return fig


def _forest(
    board: Scoreboard,
    colors: Mapping[str, str],
    dimension: str,
    key: str,
    title: str,
    kind: str,
) -> Figure | None:
    """Rows = stations, point = value, bar = 95% interval; None when nothing was measured."""
    rows = []
    for s in board.stations:
        dim = s.get(dimension)
        dim = dim if isinstance(dim, Mapping) else {}
        ci = dim.get(f"{key}_ci95")
        ci = (_num(ci[0]), _num(ci[1])) if isinstance(ci, Sequence) and len(ci) == 2 else None
        rows.append((str(s.get("label", "?")), _num(dim.get(key)), ci, dim.get(f"{key}_n")))
    if all(v is None for _, v, _, _ in rows):
        return None
    n_rows = len(rows)
    fig = Figure(figsize=(7.5, 0.9 + 0.17 * n_rows), layout="constrained")
    ax = fig.add_subplot()
    ys = np.arange(n_rows)
    bars = [(y, ci) for y, (_, v, ci, _) in zip(ys, rows, strict=True) if ci and None not in ci]
    if bars:
        ax.hlines(
            [y for y, _ in bars],
            [ci[0] for _, ci in bars],
            [ci[1] for _, ci in bars],
            colors="#9a9a9a",
            linewidth=1.4,
        )
    points = [(y, v, lab) for y, (lab, v, _, _) in zip(ys, rows, strict=True) if v is not None]
    ax.scatter(
        [v for _, v, _ in points],
        [y for y, _, _ in points],
        c=[colors.get(lab, "#444444") for _, _, lab in points],
        s=16 if n_rows <= 40 else 9,
        zorder=3,
        linewidths=0,
    )
    names = []
    for lab, v, _, n in rows:
        count = "?" if n is None else _fmt(n, "int")
        names.append(_plain(f"{lab} (n={count}{', missing' if v is None else ''})"))
    ax.set_yticks(ys, names, fontsize=7 if n_rows <= 40 else 5.5)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n_rows - 0.5, -0.5)
    if kind == "rate":
        ax.set_xlim(-0.03, 1.03)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    elif kind == "lean":
        ax.set_xlim(-1.05, 1.05)
        ax.axvline(0.0, color="#bbbbbb", linewidth=0.8, zorder=0)
    ax.grid(True, axis="x", linewidth=0.3, alpha=0.5)
    ax.set_title(_plain(title, limit=90), loc="left")
    return fig


def _heatmap(board: Scoreboard) -> Figure | None:
    """Stations × stations energy distance, drawn as one vector path per colour step."""
    order = [str(s.get("label")) for s in board.stations]
    seen = {str(d.get(k)) for d in board.divergence for k in ("a", "b")}
    labels = [lab for lab in order if lab in seen] + sorted(seen - set(order))
    n = len(labels)
    if n < 2:
        return None
    at = {lab: i for i, lab in enumerate(labels)}
    stat = np.full((n, n), np.nan)
    pval = np.full((n, n), np.nan)
    for d in board.divergence:
        i, j = at[str(d.get("a"))], at[str(d.get("b"))]
        s, p = _num(d.get("statistic")), _num(d.get("p_value"))
        stat[i, j] = stat[j, i] = np.nan if s is None else s
        pval[i, j] = pval[j, i] = np.nan if p is None else p
    np.fill_diagonal(stat, 0.0)
    finite = stat[np.isfinite(stat)]
    lo, hi = min(0.0, float(finite.min())), float(finite.max())
    if hi <= lo:
        hi = lo + 1.0
    bounds = np.linspace(lo, hi, HEAT_LEVELS + 1)
    cmap = ListedColormap(matplotlib.colormaps["viridis"](np.linspace(0, 1, HEAT_LEVELS)))
    level = np.clip(np.digitize(stat, bounds[1:-1]), 0, HEAT_LEVELS - 1)
    level[~np.isfinite(stat)] = -1  # not measured: drawn grey
    if n > ANNOTATE_MAX:  # the matrix is symmetric: one triangle is half the SVG
        level[np.triu_indices(n, 1)] = -2
    side = min(16.0, max(4.8, 0.14 * n + 2.8))
    fig = Figure(figsize=(side + 1.0, side), layout="constrained")
    ax = fig.add_subplot()
    for k in range(-1, HEAT_LEVELS):
        path = _cells_path(level == k)
        if path is not None:
            color = "#dddddd" if k < 0 else to_hex(cmap(k))
            ax.add_patch(PathPatch(path, facecolor=color, edgecolor="none", linewidth=0))
    ax.set_xlim(0, n)
    ax.set_ylim(n, 0)
    ax.set_aspect("equal")
    size = 7 if n <= 20 else max(3.0, 7 - n / 25)
    ticks = np.arange(n) + 0.5
    names = [_plain(lab, limit=24) for lab in labels]
    ax.set_xticks(ticks, names, rotation=90, fontsize=size)
    ax.set_yticks(ticks, names, fontsize=size)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if n <= ANNOTATE_MAX:
        mid = (lo + hi) / 2
        for i in range(n):
            for j in range(n):
                if i == j or not np.isfinite(stat[i, j]):
                    continue
                star = "*" if np.isfinite(pval[i, j]) and pval[i, j] < 0.05 else ""
                text = f"{stat[i, j]:.2f}{star}" if n <= VALUE_MAX else star
                if text:
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        text,
                        ha="center",
                        va="center",
                        fontsize=6 if n <= VALUE_MAX else 7,
                        color="white" if stat[i, j] < mid else "black",
                    )
    mappable = ScalarMappable(BoundaryNorm(bounds, HEAT_LEVELS), cmap)
    fig.colorbar(mappable, ax=ax, shrink=0.6, label="energy distance", format="%.2f",
                 ticks=bounds[::2])  # fmt: skip
    return fig


def _cells_path(mask: np.ndarray) -> MplPath | None:
    """The cells of ``mask`` as one compound path; a run of cells in a row is one rectangle."""
    verts: list[tuple[float, float]] = []
    for i, row in enumerate(mask):
        j, n = 0, len(row)
        while j < n:
            if not row[j]:
                j += 1
                continue
            start = j
            while j < n and row[j]:
                j += 1
            verts += [(start, i), (j, i), (j, i + 1), (start, i + 1), (start, i)]
    if not verts:
        return None
    codes = [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY]
    path = MplPath(verts, codes * (len(verts) // 5))
    path.should_simplify = False
    return path


def _talk_map(board: Scoreboard, colors: Mapping[str, str]) -> Figure | None:
    """The 2-D map of talk breaks, one colour per station."""
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for p in board.map_points:
        x, y = _num(p.get("x")), _num(p.get("y"))
        if x is not None and y is not None:
            xs, ys = groups.setdefault(str(p.get("label")), ([], []))
            xs.append(x)
            ys.append(y)
    if not groups:
        return None
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = fig.add_subplot()
    small = len(groups) <= LEGEND_MAX
    for lab, (xs, ys) in groups.items():
        ax.plot(
            _round(xs),
            _round(ys),
            linestyle="none",
            marker="o",
            markersize=3 if small else 2,
            markeredgewidth=0,
            color=colors.get(lab, "#888888"),
            label=_plain(lab),
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("map axis 1")
    ax.set_ylabel("map axis 2")
    if small:
        ax.legend(loc="best", frameon=False, markerscale=2)
    return fig


def _tic_timeline(board: Scoreboard, colors: Mapping[str, str]) -> Figure | None:
    """From first to last heard, each station's top tics (one row per tic)."""
    rows = []
    for s in board.stations:
        label = str(s.get("label", "?"))
        for t in _tic_list(s)[:TICS_PLOTTED]:
            first, last = _num(t.get("first_seen_s")), _num(t.get("last_seen_s"))
            if first is None or last is None:
                continue
            rows.append((label, str(t.get("phrase", "")), t.get("count"), first, last))
    if not rows:
        return None
    n = len(rows)
    fig = Figure(figsize=(9, 1.0 + 0.16 * n), layout="constrained")
    ax = fig.add_subplot()
    ys = np.arange(n)
    cs = [colors.get(r[0], "#888888") for r in rows]
    starts = np.array([r[3] for r in rows]) / HOUR_S
    ends = np.array([r[4] for r in rows]) / HOUR_S
    ax.hlines(ys, starts, ends, colors=cs, linewidth=2.5)
    ax.scatter(np.concatenate([starts, ends]), np.concatenate([ys, ys]), c=cs + cs, s=9, zorder=3,
               linewidths=0)  # fmt: skip
    names = [
        _plain(f"{_clean(lab, 24)} · “{_clean(phrase, 32)}” ×{_clean(c, 12)}", 72)
        for lab, phrase, c, _, _ in rows
    ]
    ax.set_yticks(ys, names, fontsize=7 if n <= 60 else 5.5)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n - 0.5, -0.5)
    hours = [_num(r.get("sim_hours_done")) for r in board.runs]
    right = max([h for h in hours if h] + [float(ends.max())])
    ax.set_xlim(0, right * 1.01 if right > 0 else 1)
    ax.set_xlabel("simulated hours")
    ax.grid(True, axis="x", linewidth=0.3, alpha=0.5)
    return fig


def _tic_list(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tics = entry.get("tics")
    if not isinstance(tics, list):
        return []
    tics = [t for t in tics if isinstance(t, Mapping)]
    return sorted(tics, key=lambda t: -(_num(t.get("z")) or 0.0))


def _thin(points: Sequence[Sequence[float]], buckets: int = LINE_BUCKETS) -> np.ndarray:
    """(x, y) arrays of ``points`` with at most the first, last, lowest and highest point of
    each of ``buckets`` equal runs: the shape of a long series in a bounded SVG."""
    try:
        arr = np.asarray(points, dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        return np.empty((2, 0))
    arr = arr[np.isfinite(arr).all(axis=1)]
    if len(arr) > 2 * buckets:
        keep = {0, len(arr) - 1}
        for idx in np.array_split(np.arange(len(arr)), buckets):
            ys = arr[idx, 1]
            keep.update((int(idx[np.argmin(ys)]), int(idx[np.argmax(ys)])))
        arr = arr[sorted(keep)]
    return arr.T


def _round(values: Sequence[float]) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), 4)


def _num(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
