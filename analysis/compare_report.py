"""How an A/B comparison is shown: a terminal table and one offline HTML page.

Kept apart from ``analysis.compare`` so the statistics never depend on display. The page
follows ``analysis.report``: matplotlib plots inlined as SVG, every text escaped (arm names
are the experimenter's, metric names may come from plug-in metrics), a Content-Security-
Policy that lets only the page's own check script run, and the same ``figure.plot`` +
check-script convention, so a headless browser can count the plots that rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from rich.table import Table
from rich.text import Text

from analysis.compare import METHOD, ArmResult, Comparison, Contrast, MetricComparison
from analysis.html_page import _e, page
from analysis.svg_figures import _plain, _style, _svg, palette
from sim.text import printable

ALPHA = 0.05
NOTE = (
    "Runs are the unit: the talk breaks and probe answers of one run are not independent, so "
    "every number starts from one value per run (the metric averaged over the run's "
    "stations). An arm's estimate is the mean of its run values, with a 95% cluster-bootstrap "
    "interval that resamples whole runs. Each contrast is the arm's mean minus the control's, "
    "with a two-sided permutation p-value that relabels whole runs between the two arms "
    "(every relabelling when there are few, else a seeded random sample) and Hedges' g over "
    "the run values; p (Holm) is corrected with Holm's method across the metrics compared, "
    "separately for each arm. Divergence is the energy distance between two arms' talk "
    "embeddings (names masked), its p-value again from relabelling whole runs, not breaks. "
    "With fewer than two runs in an arm there is no interval and no p-value (–). With few "
    "runs the smallest possible p-value is large: 4 runs against 4 cannot go below 2/70."
)


# -- terminal ---------------------------------------------------------------------------------


def compare_table(c: Comparison) -> Table:
    """Metrics × arms: estimate [95% CI] (runs), and for each arm Δ vs control, p (Holm), g."""
    t = Table(
        title=f"A/B comparison against {printable(c.control, one_line=True)} (judge: {c.judge})",
        title_justify="left",
        caption="★ primary metric; p is Holm-corrected across metrics; g is Hedges' g over runs",
    )
    arms = _arm_names(c)
    t.add_column("metric")
    for arm in arms:
        name = printable(arm, one_line=True)
        t.add_column(Text(f"{name} (control)" if arm == c.control else name), justify="right")
        if arm != c.control:
            t.add_column(Text(f"Δ {name}"), justify="right")
    for m in c.metrics:
        cells: list[Text] = [Text(("★ " if m.primary else "") + m.metric)]
        results = {a.arm: a for a in m.arms}
        contrasts = {x.arm: x for x in m.contrasts}
        for arm in arms:
            cells.append(Text(_estimate_text(results.get(arm))))  # Text: "[..]" is no markup
            if arm != c.control:
                cells.append(Text(_contrast_text(contrasts.get(arm))))
        t.add_row(*cells)
    return t


def _estimate_text(a: ArmResult | None) -> str:
    if a is None or a.estimate is None:
        return "–"
    ci = f" [{_f(a.ci95[0])}, {_f(a.ci95[1])}]" if a.ci95 else ""
    return f"{_f(a.estimate)}{ci} n={a.runs}"


def _contrast_text(x: Contrast | None) -> str:
    if x is None or x.difference is None:
        return "–"
    star = "*" if x.p_holm is not None and x.p_holm < ALPHA else ""
    return f"{_f(x.difference, signed=True)} p={_p(x.p_holm)}{star} g={_f(x.effect_size)}"


# -- HTML ---------------------------------------------------------------------------------------


def write_compare_report(c: Comparison, path: Path, title: str) -> None:
    """Write ``c`` as one offline HTML page at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # errors="replace": a lone surrogate in a name must not lose the whole page
    path.write_text(render_compare_report(c, title), encoding="utf-8", errors="replace")


def render_compare_report(c: Comparison, title: str) -> str:
    """The page's HTML text (what ``write_compare_report`` writes); deterministic."""
    arms = _arm_names(c)
    colors = dict(zip(arms, palette(len(arms)), strict=True))
    with _style():
        forests = [_forest_plot(c, m, colors) for m in c.metrics]
    body = [
        _header(c, title),
        _section("Each metric, arm by arm", forests),
        _section("Contrasts with the control", [_contrasts_table(c)]),
        _section("How different the talk is", [_divergence_table(c)]),
        _section("Method", [f'<p class="note">{_e(NOTE)}</p>', _method_list()]),
    ]
    return page(title, body)


def _header(c: Comparison, title: str) -> str:
    rows = "".join(
        f'<tr><td class="l">{_e(arm)}{" (control)" if arm == c.control else ""}</td>'
        f"<td>{len(ids)}</td>"
        f'<td class="l">{", ".join(f"<code>{_e(i)}</code>" for i in ids)}</td></tr>'
        for arm, ids in c.runs.items()
    )
    runs = (
        '<div class="wide"><table><thead><tr><th>arm</th><th>runs</th><th>run ids</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div>"
        if rows
        else ""
    )
    primary = c.primary or "–"
    return (
        f"<header><h1>{_e(title)}</h1>"
        f"<p>{len(c.runs) or len(_arm_names(c))} arms against the control "
        f"<b>{_e(c.control)}</b>; primary metric <b>{_e(primary)}</b>; probe answers judged by "
        f"<b>{_e(c.judge)}</b>.</p>{runs}</header>"
    )


def _section(title: str, parts: Sequence[str]) -> str:
    inner = "\n".join(p for p in parts if p) or '<p class="missing">Nothing to show.</p>'
    return f"<section><h2>{_e(title)}</h2>\n{inner}\n</section>"


def _forest_plot(c: Comparison, m: MetricComparison, colors: dict[str, str]) -> str:
    name = f"forest-{m.metric}"
    if all(a.estimate is None for a in m.arms):
        return f'<p class="missing">{_e(m.metric)}: no arm has a value.</p>'
    fig = _forest(c, m, colors)
    caption = (
        f"{m.metric}{' (primary)' if m.primary else ''}: point = mean of the arm's run values, "
        "bar = 95% cluster-bootstrap interval over runs, small dots = single runs, dashed "
        "line = the control's mean; p is Holm-corrected across metrics."
    )
    return (
        f'<figure class="plot" data-plot="{_e(name)}">{_svg(fig, name)}'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _forest(c: Comparison, m: MetricComparison, colors: dict[str, str]) -> Figure:
    """Arms on the y axis (control first), the estimate with its interval on x."""
    rows = sorted(m.arms, key=lambda a: a.arm != c.control)
    contrasts = {x.arm: x for x in m.contrasts}
    runs = c.run_values.get(m.metric, {})
    fig = Figure(figsize=(7.5, 1.0 + 0.32 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    ys = np.arange(len(rows))
    for y, a in zip(ys, rows, strict=True):
        color = colors.get(a.arm, "#444444")
        values = [v for v in runs.get(a.arm, []) if np.isfinite(v)]
        if values:
            ax.scatter(values, [y + 0.18] * len(values), s=7, color="#9a9a9a", linewidths=0)
        if a.ci95:
            ax.hlines([y], [a.ci95[0]], [a.ci95[1]], colors=color, linewidth=1.6)
        if a.estimate is not None:
            marker = "D" if a.arm == c.control else "o"
            ax.scatter([a.estimate], [y], s=26, color=color, marker=marker, zorder=3)
    control = next((a for a in rows if a.arm == c.control), None)
    if control is not None and control.estimate is not None:
        ax.axvline(control.estimate, color="#777777", linewidth=0.8, linestyle="--", zorder=0)
    labels = [_row_label(a, contrasts.get(a.arm), a.arm == c.control) for a in rows]
    ax.set_yticks(ys, labels)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(True, axis="x", linewidth=0.3, alpha=0.5)
    ax.set_title(_plain(("★ " if m.primary else "") + m.metric, limit=90), loc="left")
    return fig


def _row_label(a: ArmResult, x: Contrast | None, is_control: bool) -> str:
    head = f"{_plain(a.arm, limit=28)} (n={a.runs})"
    if is_control:
        return f"{head} · control"
    if x is None or x.difference is None:
        return head
    return f"{head} · Δ={_f(x.difference, signed=True)} · p_holm={_p(x.p_holm)}"


def _contrasts_table(c: Comparison) -> str:
    rows = []
    for m in c.metrics:
        for x in m.contrasts:
            star = "*" if x.p_holm is not None and x.p_holm < ALPHA else ""
            rows.append(
                f'<tr><td class="l">{"★ " if m.primary else ""}{_e(m.metric)}</td>'
                f'<td class="l">{_e(x.arm)}</td><td class="l">{_e(x.control)}</td>'
                f"<td>{_e(_f(x.difference, signed=True))}</td><td>{_e(_p(x.p_value))}</td>"
                f"<td>{_e(_p(x.p_holm))}{star}</td><td>{_e(_f(x.effect_size))}</td></tr>"
            )
    if not rows:
        return '<p class="missing">No contrasts (only the control arm).</p>'
    return (
        '<div class="wide"><table><thead><tr><th>metric</th><th>arm</th><th>control</th>'
        "<th>Δ (arm − control)</th><th>p</th><th>p (Holm)</th><th>Hedges' g</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="note">★ primary metric; * p (Holm) &lt; 0.05.</p>'
    )


def _divergence_table(c: Comparison) -> str:
    if not c.divergence:
        return '<p class="missing">Divergence needs two arms.</p>'
    rows = "".join(
        f'<tr><td class="l">{_e(d.get("a", ""))}</td><td class="l">{_e(d.get("b", ""))}</td>'
        f"<td>{_e(_f(d.get('statistic')))}</td><td>{_e(_p(d.get('p_value')))}</td>"
        f"<td>{_e(_int(d.get('runs_a')))} / {_e(_int(d.get('runs_b')))}</td>"
        f"<td>{_e(_int(d.get('breaks_a')))} / {_e(_int(d.get('breaks_b')))}</td></tr>"
        for d in c.divergence
    )
    return (
        '<div class="wide"><table><thead><tr><th>arm a</th><th>arm b</th>'
        "<th>energy distance</th><th>p (runs relabelled)</th><th>runs a / b</th>"
        f"<th>breaks a / b</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _method_list() -> str:
    items = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in METHOD.items())
    return f'<ul class="note">{items}</ul>'


# -- helpers ------------------------------------------------------------------------------------


def _arm_names(c: Comparison) -> list[str]:
    """Every arm, control first, in the order the comparison names them."""
    names: dict[str, None] = {c.control: None}
    names.update(dict.fromkeys(c.runs))
    for m in c.metrics:
        names.update(dict.fromkeys(a.arm for a in m.arms))
    return list(names)


def _f(v: Any, signed: bool = False) -> str:
    """A number at a precision that suits its size; a dash when missing."""
    if v is None or isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        return "–"
    sign = "+" if signed else ""
    size = abs(v)
    if size >= 100:
        return f"{v:{sign},.0f}"
    if size >= 1:
        return f"{v:{sign}.2f}"
    return f"{v:{sign}.3f}"


def _p(v: Any) -> str:
    if v is None or not isinstance(v, int | float) or not np.isfinite(v):
        return "–"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def _int(v: Any) -> str:
    return "–" if v is None else str(v)
