"""The grid of station cards: one card per station (name and model, now playing, the DJ's
words, money, audience, deals, alerts), the grid that lays them out and scrolls once they no
longer fit, the status bar above it, and the small text helpers the cards draw with.
"""

from __future__ import annotations

import math

from rich.console import Group
from rich.panel import Panel
from rich.text import Text
from textual.containers import Grid
from textual.widgets import Static

from economy.airplay import SegmentKind
from tui.station_timeline import Card, Segment

SPARK = "▁▂▃▄▅▆▇█"
GRID_COLUMNS = 2
CARD_HEIGHT = 12  # a card's height once the cards no longer fit the screen (then it scrolls)


def sparkline(values: list[int] | list[float], width: int = 16) -> str:
    if not values:
        return ""
    values = list(values)[-width:]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1
    return "".join(SPARK[int((v - lo) / span * (len(SPARK) - 1))] for v in values)


def money(cents: int | None) -> str:
    return "—" if cents is None else f"${cents / 100:,.2f}"


def bar(fraction: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "━" * filled + "╌" * (width - filled)


class StationCard(Static, can_focus=True):
    """One station: name and model, now playing, the DJ's words, money, audience, deals."""

    DEFAULT_CSS = """
    StationCard { height: 100%; }
    StationCard:focus { background: $boost; }
    """

    def __init__(self, call_sign: str, index: int) -> None:
        super().__init__(id=f"card-{call_sign}")
        self.call_sign = call_sign
        self.index = index
        self.last: Card | None = None
        self.waited_s: int | None = None  # whole seconds waited on a model, when waiting

    def show(self, card: Card, waited_s: float | None = None) -> None:
        """Draw ``card``, unless it is what the card already shows."""
        waited = None if waited_s is None else int(waited_s)
        if card == self.last and waited == self.waited_s:
            return
        self.last, self.waited_s = card, waited
        self.update(render_card(card, self.index, waited))


def render_card(c: Card, index: int, waited_s: int | None = None) -> Panel:
    lines: list[Text] = []
    if waited_s is not None:
        lines.append(Text(f"⏳ waiting on model {waited_s} s", style="bold yellow"))
    if c.now is None:
        lines.append(Text("off air", style="dim"))
    else:
        what = _segment_label(c.now)
        lines.append(Text.assemble(("▶ ", "bold green"), (what, "bold")))
        lines.append(Text(bar(c.progress), style="green"))
    words = (c.last_words or "").strip()
    lines.append(Text(f"“{words[:160]}”" if words else "", style="italic"))
    lines.append(
        Text.assemble(
            ("balance ", "dim"),
            (money(c.balance_cents), "bold"),
            " ",
            (sparkline(c.balance_history), "cyan"),
        )
    )
    aqh = "—" if c.aqh is None else f"{c.aqh:,}"
    share = "" if c.share is None else f" ({c.share:.0%})"
    lines.append(
        Text.assemble(
            ("AQH ", "dim"), (aqh + share, "bold"), " ", (sparkline(c.aqh_history), "magenta")
        )
    )
    deals = ", ".join(c.active_deals[:3]) if c.active_deals else "none"
    lines.append(Text.assemble(("deals ", "dim"), deals))
    lines.append(
        Text.assemble(
            ("calls ", "dim"),
            f"{c.calls}",
            ("  cost ", "dim"),
            f"${c.cost_usd:.4f}",
            ("  faults ", "dim"),
            (f"{c.faults}", "yellow" if c.faults else ""),
        )
    )
    for alert in c.alerts:
        lines.append(Text(f"⚠ {alert}", style="bold red"))
    title = Text.assemble((f"{index} ", "dim"), (c.call_sign, "bold"), f" {c.name}")
    return Panel(Group(*lines), title=title, subtitle=Text(c.model), border_style="blue")


_KIND_LABELS = {
    SegmentKind.TALK: "DJ talk",
    SegmentKind.AD: "ad break",
    SegmentKind.ID: "station ID",
}


def _segment_label(s: Segment) -> str:
    if s.kind == SegmentKind.SONG:
        return f"{s.title} — {s.artist}"
    return _KIND_LABELS.get(s.kind, s.kind)


class StatusBar(Static):
    DEFAULT_CSS = "StatusBar { height: 1; background: $primary-background; }"


class CardGrid(Grid):
    """The station cards. They share the screen while they fit; past that each keeps
    ``CARD_HEIGHT`` lines and the grid scrolls."""

    DEFAULT_CSS = f"""
    CardGrid {{ grid-size: {GRID_COLUMNS}; grid-gutter: 0 1; height: 1fr; overflow-y: auto; }}
    CardGrid.-scroll {{ grid-rows: {CARD_HEIGHT}; }}
    """

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        if self.size.height:  # before the first layout it is not known yet
            rows = math.ceil(len(self.children) / GRID_COLUMNS)
            self.set_class(rows * CARD_HEIGHT > self.size.height, "-scroll")

    @property
    def cards_per_page(self) -> int:
        if not self.has_class("-scroll"):
            return len(self.children)
        return max(1, self.size.height // CARD_HEIGHT) * GRID_COLUMNS
