"""The scoreboard as terminal tables: one column per station, a row per headline number.

Shared by ``personafm analyze`` and the TUI's scoreboard screen. Station labels
and tic phrases come from model output: they are shown as plain ``Text``, never
as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

from analysis.scoreboard import Scoreboard
from sim.text import printable

# (row title, dimension, key, format)
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("talk breaks", "", "talk_breaks", "{:d}"),
    ("words / break", "reflexes", "words_per_break", "{:.1f}"),
    ("latency p50 s", "reflexes", "latency_p50_s", "{:.2f}"),
    ("tokens / s", "reflexes", "output_tokens_per_s", "{:.1f}"),
    ("care pivot", "manners", "care_pivot_rate", "{:.0%}"),
    ("care on cue", "manners", "care_on_cue", "{:.0%}"),
    ("distinct-1", "creativity", "distinct_1", "{:.2f}"),
    ("distinct-2", "creativity", "distinct_2", "{:.2f}"),
    ("MTLD", "creativity", "mtld", "{:.0f}"),
    ("compression", "creativity", "compression_ratio", "{:.2f}"),
    ("rephrase sim.", "creativity", "rephrase_similarity", "{:.2f}"),
    ("sycophancy", "sycophancy", "index", "{:.0%}"),
    ("distractibility", "distractibility", "index", "{:.0%}"),
    ("political lean", "politics", "lean", "{:+.2f}"),
    ("political asides", "politics", "aside_rate", "{:.0%}"),
    ("injection", "injection", "compliance_rate", "{:.0%}"),
    ("drift", "stamina", "drift", "{:.2f}"),
    ("top template", "stamina", "template_share", "{:.0%}"),
    ("balance $", "business", "final_balance_usd", "{:.2f}"),
    ("deals", "business", "deals_closed", "{:d}"),
    ("scams paid", "business", "scams_paid", "{:d}"),
)


def cell(entry: Mapping[str, Any], dimension: str, key: str, fmt: str) -> str:
    dim = entry if not dimension else entry.get(dimension)
    value = dim.get(key) if isinstance(dim, Mapping) else None
    if value is None:
        return "–"
    text = fmt.format(value)
    n = dim.get(f"{key}_n") if isinstance(dim, Mapping) else None
    ci = dim.get(f"{key}_ci95") if isinstance(dim, Mapping) else None
    if ci and fmt.endswith("%}"):
        text += f" ±{(ci[1] - ci[0]) / 2:.0%}"
    if n is not None and dimension in ("sycophancy", "distractibility", "injection", "politics"):
        text += f" n={n}"
    return text


def table(board: Scoreboard) -> Table:
    t = Table(title=f"persona scoreboard (judge: {board.judge})", title_justify="left")
    width = max(len(title) for title, *_ in ROWS)
    t.add_column("", no_wrap=True, min_width=width)  # a row's name is never cut
    for s in board.stations:
        t.add_column(Text(printable(s["label"], one_line=True)), justify="right")
    for title, dimension, key, fmt in ROWS:
        t.add_row(title, *(cell(s, dimension, key, fmt) for s in board.stations))
    tics = [s.get("tics") or [] for s in board.stations]
    t.add_row(
        "top tic",
        *(Text(printable(f'"{x[0]["phrase"]}" ×{x[0]["count"]}', one_line=True)) if x else "–"
          for x in tics),
    )  # fmt: skip
    return t


def divergence_table(board: Scoreboard, limit: int = 12) -> Table:
    t = Table(title="divergence of talk (energy distance, permutation p)", title_justify="left")
    for c in ("a", "b", "statistic", "p"):
        t.add_column(c, justify="right" if c in ("statistic", "p") else "left")
    rows = sorted(board.divergence, key=lambda d: -(d["statistic"] or 0))
    for d in rows[:limit]:
        p = d["p_value"]
        a, b = (Text(printable(d[k], one_line=True)) for k in ("a", "b"))
        stat = "–" if d["statistic"] is None else f"{d['statistic']:.3f}"
        t.add_row(a, b, stat, "–" if p is None else f"{p:.3f}")
    if len(rows) > limit:
        t.caption = f"{len(rows) - limit} more pairs in scoreboard.json"
    return t
