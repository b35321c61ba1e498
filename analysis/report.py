"""``report.html``: the scoreboard as one self-contained page that renders offline.

Every plot is drawn with matplotlib and inlined as SVG text, so the page needs no
network, no scripts from elsewhere and no fonts but the reader's own. Text in the
data (station labels, tic phrases) comes from model output: it is escaped for HTML
here, for matplotlib's mathtext in the plots, and a Content-Security-Policy lets
only the page's own check script run. The check script counts the plots that laid
out to a non-empty box (``data-plots-rendered``) and records script errors
(``data-errors``), so a headless browser can tell a broken report from a good one.

Output is deterministic: SVG ids come from a fixed hash salt, no dates are written,
and long series are thinned the same way every time. The page shell and escaping live
in ``analysis.html_page``, the SVG conversion and palette in ``analysis.svg_figures``,
and the plots themselves in ``analysis.report_plots``; this module assembles the
sections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from analysis.html_page import _e, _fmt, page
from analysis.report_plots import (
    LINE_BUCKETS,
    TICS_PLOTTED,
    _forest,
    _heatmap,
    _lines,
    _talk_map,
    _tic_list,
    _tic_timeline,
)
from analysis.svg_figures import _style, _svg, palette

if TYPE_CHECKING:
    from analysis.scoreboard import Scoreboard

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


def _plot(name: str, fig: Figure, caption: str) -> str:
    return (
        f'<figure class="plot" data-plot="{_e(name)}">{_svg(fig, name)}'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _none(text: str) -> str:
    return f'<p class="missing">{_e(text)}</p>'


def _swatch(color: str | None) -> str:
    if not color or not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        return ""
    return f'<span class="sw" style="background:{color}"></span>'
