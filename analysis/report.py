"""``report.html``: the scoreboard as one self-contained page that renders offline.

Every plot is drawn with matplotlib and inlined as SVG text, so the page needs no
network, no scripts from elsewhere and no fonts but the reader's own. Text in the
data (station labels, tic phrases) comes from model output: it is escaped for HTML
here, for matplotlib's mathtext in the plots, and a Content-Security-Policy lets
only the page's own check script run. The check script counts the plots that laid
out to a non-empty box (``data-plots-rendered``) and records script errors
(``data-errors``), so a headless browser can tell a broken report from a good one.

Output is deterministic: SVG ids come from a fixed hash salt, no dates are written,
and long series are thinned the same way every time.

Why one long module: the page is one document, and its sections share the escaping,
the palette and the SVG post-processing; split by section it would scatter them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import PercentFormatter

if TYPE_CHECKING:
    from analysis.scoreboard import Scoreboard

HOUR_S = 3600.0
LEGEND_MAX = 12  # more stations than this: no legend (colours match the headline table)
ANNOTATE_MAX = 20  # more stations than this: no text in the divergence cells
VALUE_MAX = 12  # up to this many stations the divergence cells also show the statistic
LINE_BUCKETS = 400  # a series is thinned to the min and max of at most this many buckets
LINE_VERTICES = 30_000  # ...and fewer when many lines share a plot (size of the SVG)
TICS_PLOTTED = 3  # top tics per station on the timeline
LABEL_CHARS = 42  # longest station label or phrase written inside a plot
HEAT_LEVELS = 12  # colour steps of the divergence heatmap (one SVG path per step)
SALT = "personafm-report"

STYLE: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.0,
    "svg.fonttype": "none",  # text stays text: small, searchable, selectable
    "svg.hashsalt": SALT,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # metrics for layout; the browser falls back to its own
    "path.simplify": True,
}

# (dimension, key, title, kind): kind "rate" is a share in [0, 1], "lean" is in [-1, 1]
FORESTS: tuple[tuple[str, str, str, str], ...] = (
    ("manners", "care_pivot_rate", "Care pivot: own talk that turns caring unprompted", "rate"),
    ("manners", "care_on_cue", "Care on cue: distress calls answered with care", "rate"),
    ("sycophancy", "index", "Sycophancy: probes agreed with", "rate"),
    ("distractibility", "index", "Distractibility: off-format requests followed", "rate"),
    ("injection", "compliance_rate", "Injection: planted instructions obeyed", "rate"),
    ("politics", "lean", "Political lean (+1 left, −1 right)", "lean"),
    ("politics", "aside_rate", "Political asides in own talk", "rate"),
    ("stamina", "template_share", "Talk following the station's top template", "rate"),
    ("stamina", "drift", "Drift of talk from where it started (cosine distance)", "value"),
    ("reflexes", "words_per_break", "Words per talk break", "value"),
    ("reflexes", "latency_p50_s", "Median model latency (s)", "value"),
    ("creativity", "distinct_1", "Distinct-1: distinct words / words", "rate"),
    ("creativity", "mtld", "MTLD (lexical diversity)", "value"),
    ("creativity", "rephrase_similarity", "Same answer however asked (cosine)", "value"),
)

# (row title, dimension, key, format) of the headline table; "" dimension: the station entry
HEADLINES: tuple[tuple[str, str, str, str], ...] = (
    ("provider", "", "provider", "text"),
    ("model", "", "model", "text"),
    ("talk breaks", "", "talk_breaks", "int"),
    ("words / break", "reflexes", "words_per_break", "{:.1f}"),
    ("latency p50 s", "reflexes", "latency_p50_s", "{:.2f}"),
    ("tokens / s", "reflexes", "output_tokens_per_s", "{:.1f}"),
    ("care pivot", "manners", "care_pivot_rate", "pct"),
    ("care on cue", "manners", "care_on_cue", "pct"),
    ("distinct-1", "creativity", "distinct_1", "{:.2f}"),
    ("distinct-2", "creativity", "distinct_2", "{:.2f}"),
    ("MTLD", "creativity", "mtld", "{:.0f}"),
    ("compression", "creativity", "compression_ratio", "{:.2f}"),
    ("rephrase sim.", "creativity", "rephrase_similarity", "{:.2f}"),
    ("sycophancy", "sycophancy", "index", "pct"),
    ("distractibility", "distractibility", "index", "pct"),
    ("political lean", "politics", "lean", "{:+.2f}"),
    ("political asides", "politics", "aside_rate", "pct"),
    ("injection", "injection", "compliance_rate", "pct"),
    ("drift", "stamina", "drift", "{:.2f}"),
    ("top template", "stamina", "template_share", "pct"),
    ("balance $", "business", "final_balance_usd", "{:,.2f}"),
    ("deals", "business", "deals_closed", "int"),
    ("scams paid", "business", "scams_paid", "int"),
    ("fabricated sponsors", "business", "fabricated_sponsor_mentions", "int"),
)

NOTE = (
    "How to read the numbers: a rate is a share with its Wilson 95% interval; a mean carries "
    "a bootstrap 95% interval; n is the sample behind each number (probes answered, talk "
    "breaks, model calls). A dash (–) or a row marked “missing” is a measurement that could "
    "not be made (nothing to measure), never a zero. Divergence is the energy distance "
    "between two stations' talk embeddings, with a label-permutation p-value; * marks "
    "p < 0.05, not corrected for the number of pairs. Times are simulated hours. Long "
    f"series are drawn thinned (the lowest and highest point of each of at most {LINE_BUCKETS} "
    "equal runs)."
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem auto;
max-width:1200px;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:.95rem;margin:.4rem 0}
table{border-collapse:collapse;font-size:.8rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.15rem .4rem;text-align:right;vertical-align:top}
th:first-child,td.l{text-align:left}thead th{background:#f4f4f4}
.wide{overflow-x:auto;max-width:100%}.note{font-size:.85rem;color:#444;max-width:60rem}
.ci,.n{color:#777;font-size:.7rem;display:block}.missing{color:#aaa}
.sw{display:inline-block;width:.7em;height:.7em;margin-right:.25em;border-radius:2px}
figure.plot{margin:1rem 0}figure.plot svg{max-width:100%;height:auto}
figcaption{font-size:.8rem;color:#555}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(22rem,1fr));gap:.8rem}
.card{border:1px solid #e4e4e4;border-radius:4px;padding:.4rem .6rem}
.card td:first-child{text-align:left;word-break:break-word}
"""

# counts the plots that laid out to a non-empty box, and keeps any script error
CHECK_JS = """(function () {
  var errors = [];
  window.onerror = function (message, source, line) {
    errors.push(String(message) + (line ? " (line " + line + ")" : ""));
    document.body.dataset.errors = errors.join(" | ");
  };
  window.addEventListener("load", function () {
    var figures = document.querySelectorAll("figure.plot");
    var rendered = 0;
    figures.forEach(function (figure) {
      var svg = figure.querySelector("svg");
      if (!svg) { return; }
      var box = svg.getBBox();
      if (box.width > 0 && box.height > 0) { rendered += 1; }
    });
    document.body.dataset.plotsRendered = rendered + "/" + figures.length;
  });
})();"""

_PROLOG = re.compile(r"\A.*?(?=<svg[\s>])", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_TAG = re.compile(r"<[^<>]*>")  # text content never holds "<" (matplotlib escapes it)
_GEOMETRY = re.compile(r'(\s(?:d|x|y|transform)=")([^"]*)(")')
_DIGITS = re.compile(r"(\.\d\d)\d+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def write_report(board: Scoreboard, path: Path) -> None:
    """Write ``board`` as one offline HTML page at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # errors="replace": a lone surrogate in model output must not lose the whole report
    path.write_text(render_report(board), encoding="utf-8", errors="replace")


def render_report(board: Scoreboard) -> str:
    """The report's HTML text (what ``write_report`` writes)."""
    labels = [str(s.get("label", "?")) for s in board.stations]
    colors = dict(zip(labels, palette(len(labels)), strict=True))
    with _style():
        body = [
            _header(board),
            _section("Money and audience", _over_time(board, colors)),
            _section("Each dimension with its 95% interval", _forests(board, colors)),
            _section("How different the talk is", _divergence_and_map(board, colors)),
            _section("Tics", _tics(board, colors)),
            _section("Headline numbers", _headlines(board, colors)),
            _section("Stamina", _stamina(board, colors)),
        ]
    title = "Persona FM scoreboard"
    names = ", ".join(str(r.get("name", "")) for r in board.runs if r.get("name"))
    if names:
        title += f" — {names}"
    return page(title, body)


def page(title: str, body: Sequence[str]) -> str:
    """A whole offline page: the sections, the style, and the check script that only a
    Content-Security-Policy naming its hash lets run (so injected markup never can)."""
    script_hash = base64.b64encode(hashlib.sha256(CHECK_JS.encode()).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{CHECK_JS}</script>\n</body>\n</html>\n"
    )


# -- page parts -----------------------------------------------------------------------------


def _header(board: Scoreboard) -> str:
    rows = []
    for r in board.runs:
        done, planned = r.get("sim_hours_done"), r.get("sim_hours_planned")
        rows.append(
            "<tr>"
            f'<td class="l"><code>{_e(r.get("run_id", ""))}</code></td>'
            f'<td class="l">{_e(r.get("name", ""))}</td>'
            f'<td class="l">{_e(r.get("status", ""))}</td>'
            f"<td>{_fmt(done, '{:.1f}')} / {_fmt(planned, '{:.1f}')}</td>"
            f"<td>{_e(r.get('seed', ''))}</td>"
            "</tr>"
        )
    runs = (
        '<div class="wide"><table><thead><tr><th>run</th><th>name</th><th>status</th>'
        "<th>hours done / planned</th><th>seed</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    return (
        "<header><h1>Persona FM scoreboard</h1>"
        f"<p>{len(board.stations)} stations, {len(board.runs)} run(s); probe answers judged by "
        f'<b>{_e(board.judge)}</b>.</p>{runs}<p class="note">{_e(NOTE)}</p></header>'
    )


def _section(title: str, parts: Sequence[str]) -> str:
    inner = "\n".join(p for p in parts if p) or '<p class="missing">Nothing to show.</p>'
    return f"<section><h2>{_e(title)}</h2>\n{inner}\n</section>"


def _over_time(board: Scoreboard, colors: Mapping[str, str]) -> list[str]:
    out = []
    for key, name, ylabel, what in (
        ("balance_usd", "balance", "balance (USD)", "Bank balance after each ledger entry"),
        ("aqh", "aqh", "average quarter-hour audience", "Average quarter-hour audience (AQH)"),
    ):
        lines = {lab: s.get(key) or [] for lab, s in board.series.items()}
        fig = _lines(lines, colors, ylabel, steps=name == "balance")
        caption = f"{what} over simulated hours, one line per station."
        out.append(_plot(name, fig, caption) if fig else _none(f"No {ylabel} recorded."))
    return out


def _stamina(board: Scoreboard, colors: Mapping[str, str]) -> list[str]:
    lines = {}
    for s in board.stations:
        stamina = s.get("stamina")
        if isinstance(stamina, Mapping):
            lines[str(s.get("label"))] = stamina.get("drift_series") or []
    fig = _lines(lines, colors, "cosine distance from the first window", markers=True)
    if fig is None:
        return [_none("Too little talk to measure drift.")]
    caption = (
        "Drift: how far each window of a station's talk sits from its first window "
        "(centroid cosine distance of the talk embeddings), by simulated hour."
    )
    return [_plot("drift", fig, caption)]


def _forests(board: Scoreboard, colors: Mapping[str, str]) -> list[str]:
    out = []
    for dimension, key, title, kind in FORESTS:
        fig = _forest(board, colors, dimension, key, title, kind)
        if fig is not None:
            caption = f"{dimension}.{key}: point = value, bar = 95% interval, n on each row."
            out.append(_plot(f"forest-{dimension}.{key}", fig, caption))
    return out


def _divergence_and_map(board: Scoreboard, colors: Mapping[str, str]) -> list[str]:
    out = []
    fig = _heatmap(board)
    if fig is None:
        out.append(_none("Divergence needs two stations with at least two talk breaks each."))
    else:
        caption = (
            "Energy distance between stations' talk (0 = the same distribution); "
            "* = permutation p < 0.05."
        )
        out.append(_plot("divergence", fig, caption))
    fig = _talk_map(board, colors)
    if fig is None:
        out.append(_none("No talk breaks to map."))
    else:
        caption = (
            f"Talk breaks on a 2-D map of their embeddings ({len(board.map_points)} points), "
            "coloured by station: nearby points are similar talk."
        )
        out.append(_plot("map", fig, caption))
    return out


def _tics(board: Scoreboard, colors: Mapping[str, str]) -> list[str]:
    fig = _tic_timeline(board, colors)
    out = []
    if fig is None:
        out.append(_none("No station over-uses a phrase (no tics found)."))
    else:
        caption = (
            f"Each station's top {TICS_PLOTTED} tics: heard from the first to the last "
            "simulated hour marked, with how often (×count)."
        )
        out.append(_plot("tics", fig, caption))
    cards = []
    for s in board.stations:
        label = str(s.get("label", "?"))
        tics = _tic_list(s)
        head = f"<h3>{_swatch(colors.get(label))}{_e(label)}</h3>"
        if not tics:
            cards.append(f'<div class="card">{head}<p class="missing">no tics</p></div>')
            continue
        rows = "".join(
            f"<tr><td>{_e(t.get('phrase', ''))}</td><td>{_fmt(t.get('z'), '{:.1f}')}</td>"
            f"<td>{_fmt(t.get('count'), 'int')}</td><td>{_fmt(t.get('per_day'), '{:.1f}')}</td>"
            "</tr>"
            for t in tics
        )
        cards.append(
            f'<div class="card">{head}<table><thead><tr><th>phrase</th><th>z</th>'
            f"<th>count</th><th>per day</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    out.append(f'<div class="grid">{"".join(cards)}</div>')
    return out


def _headlines(board: Scoreboard, colors: Mapping[str, str]) -> list[str]:
    head = "".join(
        f"<th>{_swatch(colors.get(str(s.get('label'))))}{_e(s.get('label', '?'))}</th>"
        for s in board.stations
    )
    rows = []
    for title, dimension, key, fmt in HEADLINES:
        cells = "".join(f"<td>{_cell(s, dimension, key, fmt)}</td>" for s in board.stations)
        rows.append(f'<tr><td class="l">{_e(title)}</td>{cells}</tr>')
    tops = []
    for s in board.stations:
        tics = _tic_list(s)
        top = tics[0] if tics else None
        tops.append(
            f"<td>“{_e(top.get('phrase', ''))}” ×{_fmt(top.get('count'), 'int')}</td>"
            if top
            else '<td class="missing">–</td>'
        )
    rows.append(f'<tr><td class="l">top tic</td>{"".join(tops)}</tr>')
    return [
        f'<div class="wide"><table><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    ]


def _cell(entry: Mapping[str, Any], dimension: str, key: str, fmt: str) -> str:
    dim = entry if not dimension else entry.get(dimension)
    if not isinstance(dim, Mapping) or dim.get(key) is None:
        return '<span class="missing" title="not measured">–</span>'
    value = dim.get(key)
    if fmt == "text":
        return _e(value)
    text = _fmt(value, fmt)
    ci = dim.get(f"{key}_ci95")
    if isinstance(ci, Sequence) and len(ci) == 2 and None not in ci:
        lo, hi = (_fmt(v, fmt) for v in ci)
        text += f'<span class="ci">{lo} – {hi}</span>'
    n = dim.get(f"{key}_n")
    if n is not None:
        text += f'<span class="n">n={_fmt(n, "int")}</span>'
    return text


# -- plots ----------------------------------------------------------------------------------


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


# -- helpers --------------------------------------------------------------------------------


def palette(n: int) -> list[str]:
    """``n`` distinguishable colours: tab10/tab20, then a spread of turbo (neighbours apart)."""
    if n <= 10:
        return [to_hex(c) for c in matplotlib.colormaps["tab10"](np.arange(n))]
    if n <= 20:
        order = [*range(0, 20, 2), *range(1, 20, 2)][:n]  # the strong ten, then the pale ten
        return [to_hex(c) for c in matplotlib.colormaps["tab20"](order)]
    step = next(k for k in range(int(n * 0.38), n) if math.gcd(k, n) == 1)
    turbo = matplotlib.colormaps["turbo"](np.linspace(0.04, 0.96, n))
    return [to_hex(turbo[(i * step) % n]) for i in range(n)]


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        yield


def _plot(name: str, fig: Figure, caption: str) -> str:
    return (
        f'<figure class="plot" data-plot="{_e(name)}">{_svg(fig, name)}'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _svg(fig: Figure, name: str) -> str:
    """The figure as inline SVG: no XML prolog, doctype or metadata; ids salted per plot so
    two plots on one page never share an id."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"{SALT}-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1), count=1)
    return _TAG.sub(_short_geometry, text.strip())


def _short_geometry(tag: re.Match[str]) -> str:
    """Coordinates to 0.01 pt (matplotlib writes 0.000001): a third of the bytes, same look."""
    return _GEOMETRY.sub(lambda a: a[1] + _DIGITS.sub(r"\1", a[2]) + a[3], tag[0])


def _none(text: str) -> str:
    return f'<p class="missing">{_e(text)}</p>'


def _swatch(color: str | None) -> str:
    if not color or not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        return ""
    return f'<span class="sw" style="background:{color}"></span>'


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


def _fmt(value: Any, fmt: str) -> str:
    """``value`` formatted and HTML-escaped; a dash when it is missing."""
    if value is None:
        return "–"
    try:
        if fmt == "int":
            return _e(f"{int(value):,d}")
        if fmt == "pct":
            return _e(f"{float(value):.0%}")
        return _e(fmt.format(value))
    except (TypeError, ValueError, OverflowError):
        return _e(value)


def _e(value: Any) -> str:
    """Escaped for HTML text and attributes, without the control characters HTML forbids."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def _plain(text: Any, limit: int = LABEL_CHARS) -> str:
    """Text safe to hand matplotlib: one line, printable, bounded, and never mathtext."""
    return _clean(text, limit).replace("$", r"\$")


def _clean(text: Any, limit: int) -> str:
    """One printable line of at most ``limit`` characters (not yet escaped for mathtext)."""
    s = "".join(ch for ch in " ".join(str(text).split()) if ch.isprintable())
    return s if len(s) <= limit else s[: limit - 1] + "…"
