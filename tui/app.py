"""The Persona FM terminal UI: a grid of station cards, a station screen, help.

One app serves ``watch`` (a live simulation), ``replay`` (a stored run) and
``watch --attach`` (a run another process is writing): the source fills the
timeline and the UI renders the timeline at the source's current time on a
refresh tick. Nothing off the UI thread touches a widget.
"""

from __future__ import annotations

import gc
import math
import time
from bisect import bisect_right
from typing import Any, ClassVar

from rich.console import Group
from rich.panel import Panel
from rich.text import Text
from sqlalchemy import Engine
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.dom import NoScreen
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Log, Static

from economy.airplay import SegmentKind
from economy.contracts import ContractStatus
from economy.listeners import Via
from sim.clock import parse_duration
from tui.sources import Source, StoredSource, speed_label
from tui.timeline import TERMINAL, Card, Segment, Timeline

SPARK = "▁▂▃▄▅▆▇█"
FREEZE_EVERY_S = 20.0
TABLE_ROWS = 500  # rows shown per table (newest); search looks through all of them
ASRUN_ROWS = 1000  # newest as-run lines in the log (search looks through all of them)
GRID_COLUMNS = 2
CARD_HEIGHT = 12  # a card's height once the cards no longer fit the screen (then it scrolls)
NOTHING_YET = "nothing yet"


def _add_plain(table: DataTable, *cells: str) -> None:
    """A row whose text is shown as written: DataTable would read a str cell as markup."""
    table.add_row(*(Text(c) for c in cells))


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


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape,question_mark,q", "dismiss", "Close")]
    DEFAULT_CSS = "HelpScreen { align: center middle; } #help { width: 64; height: auto; }"

    def compose(self) -> ComposeResult:
        rows = [
            ("space", "pause / resume (attach: hold the picture / follow)"),
            ("s", "speed: 1×, 10×, 60×, max"),
            ("n / →", "step one segment forward"),
            ("←", "step one segment back (replay)"),
            ("[ / ]", "an hour back / forward (replay)"),
            ("g", "go to a time, e.g. 6h, 90m, 2d"),
            ("1-9, enter", "open a station's screen"),
            ("↑ ↓ pgup pgdn", "move between station cards (the grid scrolls)"),
            ("home / end", "the first / last station card"),
            ("a k l d m c", "station screen: as-run, talk, ledger, deals, messages, calls"),
            ("/", "station screen: search the as-run log"),
            ("t", "speech on/off for the focused station"),
            ("b", "the persona scoreboard of the run"),
            ("escape", "back"),
            ("?", "this help"),
            ("q", "quit"),
        ]
        text = Text()
        for key, what in rows:
            text.append(f"{key:>12}  ", style="bold")
            text.append(what + "\n")
        yield Static(Panel(text, title="keys"), id="help")

    async def action_dismiss(self, result: Any = None) -> None:
        self.dismiss(result)


class GotoScreen(ModalScreen[float | None]):
    DEFAULT_CSS = "GotoScreen { align: center middle; } Input { width: 40; }"
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="go to: 6h, 90m, 1.5d", id="goto")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(parse_duration(event.value))
        except ValueError as exc:
            self.notify(str(exc), severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)


PANES: dict[str, tuple[str, str]] = {  # key -> (pane id, label)
    "a": ("asrun", "as-run"),
    "k": ("talk", "talk"),
    "l": ("ledger", "ledger"),
    "d": ("deals", "deals"),
    "m": ("messages", "messages"),
    "c": ("calls", "calls"),
}


class StationScreen(Screen[None]):
    """Everything about one station up to now: as-run, talk, ledger, deals, mail, calls.

    Only the as-run pane is built when the screen opens; the others are built the first
    time they are shown, so opening a station stays quick however long the run.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        *[Binding(key, f"show('{pane}')", label) for key, (pane, label) in PANES.items()],
    ]
    painted_at: float | None = None  # when the screen was first drawn (perf_counter)
    asrun_lines = 0

    def __init__(self, timeline: Timeline, call_sign: str, at_s: float) -> None:
        super().__init__()
        self.timeline = timeline
        self.call_sign = call_sign
        self.at_s = at_s
        self._built: set[str] = {"asrun"}

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="station-title")
        yield Static(self._tabs("asrun"), id="tabs")
        with ContentSwitcher(initial="pane-asrun", id="panes"), Vertical(id="pane-asrun"):
            yield Input(placeholder="search the as-run log", id="search")
            yield Log(id="asrun-log", max_lines=ASRUN_ROWS, auto_scroll=True)
        yield Footer()

    def _tabs(self, current: str) -> Text:
        text = Text()
        for key, (pane, label) in PANES.items():
            style = "bold reverse" if pane == current else "dim"
            text.append(f" {key} {label} ", style=style)
            text.append(" ")
        return text

    def _title(self) -> Text:
        st = self.timeline.stations[self.call_sign]
        clock = self.timeline.clock.label(self.at_s)
        return Text.assemble((st.call_sign, "bold"), f" {st.name} · {st.model} · as of {clock}")

    def on_mount(self) -> None:
        self._fill_asrun("")
        self.query_one("#asrun-log", Log).focus()  # keys drive the screen until "/" searches
        self.call_after_refresh(self._painted)

    async def show_at(self, at_s: float, call_sign: str | None = None) -> None:
        """Reuse this screen for another instant (or station): refill the as-run, drop the
        other panes (they rebuild when shown)."""
        self.at_s = at_s
        self.call_sign = call_sign or self.call_sign
        self.painted_at = None
        for pane in self._built - {"asrun"}:
            await self.query_one(f"#pane-{pane}").remove()
        self._built = {"asrun"}
        self.query_one("#station-title", Static).update(self._title())
        self.query_one("#search", Input).value = ""
        self.query_one("#panes", ContentSwitcher).current = "pane-asrun"
        self.query_one("#tabs", Static).update(self._tabs("asrun"))
        self._fill_asrun("")
        self.query_one("#asrun-log", Log).focus()
        self.call_after_refresh(self._painted)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        on_asrun = self.query_one("#panes", ContentSwitcher).current == "pane-asrun"
        if search.has_focus and on_asrun:
            self.query_one("#asrun-log", Log).focus()
        else:
            self.app.pop_screen()

    def _painted(self) -> None:
        self.painted_at = time.perf_counter()

    async def action_show(self, pane: str) -> None:
        if pane not in self._built:
            self._built.add(pane)
            await self._build(pane)
        self.query_one("#panes", ContentSwitcher).current = f"pane-{pane}"
        self.query_one("#tabs", Static).update(self._tabs(pane))
        shown = self.query_one(f"#pane-{pane}")
        target = (
            shown.query_one("#asrun-log") if pane == "asrun" else shown.query(DataTable).first()
        )
        target.focus()

    async def _build(self, pane: str) -> None:
        widgets: dict[str, list[Any]] = {
            "talk": [DataTable(id="talk")],
            "ledger": [Static(id="balance-chart"), DataTable(id="ledger")],
            "deals": [DataTable(id="contracts"), DataTable(id="negotiations")],
            "messages": [DataTable(id="messages")],
            "calls": [DataTable(id="calls")],
        }
        box = Vertical(*widgets[pane], id=f"pane-{pane}")
        await self.query_one("#panes", ContentSwitcher).mount(box)
        {
            "talk": self._fill_talk,
            "ledger": self._fill_ledger,
            "deals": self._fill_deals,
            "messages": self._fill_messages,
            "calls": self._fill_calls,
        }[pane]()
        for table in box.query(DataTable):
            if not table.row_count:  # say so, rather than show bare headers
                empty = Static(Text(NOTHING_YET, style="dim"), classes="empty")
                await box.mount(empty, after=table)

    def _fill_talk(self) -> None:
        tl, cs, t = self.timeline, self.call_sign, self.at_s
        talk = self.query_one("#talk", DataTable)
        talk.add_columns("time", "source", "words")
        st = tl.view(cs)
        words = st.words[: bisect_right(st.words_t, t)]
        for seg in [s for s in words if s.kind == SegmentKind.TALK][-TABLE_ROWS:]:
            _add_plain(talk, tl.clock.label(seg.start_s), seg.source, seg.text or "")

    def _fill_ledger(self) -> None:
        tl, cs, t = self.timeline, self.call_sign, self.at_s
        ledger = self.query_one("#ledger", DataTable)
        ledger.add_columns("time", "amount", "kind", "counterparty", "reason", "balance")
        rows = tl.rows_until(cs, "ledger", t)
        for r in rows[-TABLE_ROWS:]:
            _add_plain(
                ledger,
                tl.clock.label(r["sim_time_s"]),
                money(r["amount_cents"]),
                r["kind"],
                r["counterparty"],
                r["reason"],
                money(r["balance_after_cents"]),
            )
        chart = sparkline([r["balance_after_cents"] for r in rows], width=60)
        self.query_one("#balance-chart", Static).update(f"balance  {chart}")

    def _fill_deals(self) -> None:
        tl, cs, t = self.timeline, self.call_sign, self.at_s
        st = tl.view(cs)
        contracts = self.query_one("#contracts", DataTable)
        contracts.add_columns("contract", "sponsor", "terms", "signed", "state")
        for cid, c in st.contracts.items():
            if c["signed_s"] > t:
                continue
            done = [kind for at, kind in c["events"] if at <= t and kind in TERMINAL]
            running = ContractStatus.ACTIVE if t < c["end_s"] else ContractStatus.COMPLETED
            state = done[-1] if done else running
            _add_plain(
                contracts, cid, c["sponsor"], c["terms"], tl.clock.label(c["signed_s"]), state
            )
        negotiations = self.query_one("#negotiations", DataTable)
        negotiations.add_columns("deal", "sponsor", "round", "party", "move", "status", "time")
        for r in [r for r in st.negotiations if r["sim_time_s"] <= t][-TABLE_ROWS:]:
            _add_plain(negotiations, r["negotiation_id"], r["counterparty"], str(r["round"]),
                                 r["party"], r["move"], r["status_after"],
                                 tl.clock.label(r["sim_time_s"]))  # fmt: skip

    def _fill_messages(self) -> None:
        tl, cs, t = self.timeline, self.call_sign, self.at_s
        messages = self.query_one("#messages", DataTable)
        messages.add_columns("time", "via", "kind", "probe", "message", "answer")
        for r in tl.rows_until(cs, "messages", t)[-TABLE_ROWS:]:
            answer = tl.answer(cs, r["message_id"], t)
            _add_plain(messages, tl.clock.label(r["sim_time_s"]), r.get("via") or Via.MAIL,
                       r["kind"], r["probe_category"], r["text"][:80], answer[:80])  # fmt: skip

    def _fill_calls(self) -> None:
        tl, cs, t = self.timeline, self.call_sign, self.at_s
        calls = self.query_one("#calls", DataTable)
        calls.add_columns("time", "model", "in", "out", "latency s", "cost $", "ok", "source")
        for r in tl.rows_until(cs, "calls", t)[-TABLE_ROWS:]:
            _add_plain(calls, tl.clock.label(r["sim_time_s"]), r["model"], str(r["input_tokens"]),
                          str(r["output_tokens"]), f"{r['latency_s']:.2f}",
                          f"{r.get('cost_usd') or 0:.5f}", "yes" if r["ok"] else "no",
                          r.get("source", "live"))  # fmt: skip

    def _fill_asrun(self, query: str) -> None:
        """The newest matching segments, one line each (a Log draws fast however many)."""
        log = self.query_one("#asrun-log", Log)
        log.clear()
        q = query.lower().strip()
        segs = self.timeline.segments(self.call_sign, self.at_s)
        if q:
            segs = [s for s in segs if q in f"{s.title} {s.artist} {s.text} {s.kind}".lower()]
        label = self.timeline.clock.label
        lines = []
        for s in segs[-ASRUN_ROWS:]:
            item = _segment_label(s) if s.kind == SegmentKind.SONG else (s.text or s.kind)
            lines.append(f"{label(s.start_s)}  {s.kind:<4}  {s.source:<8}  {item[:110]}")
        log.write_lines(lines)
        self.asrun_lines = len(lines)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self._fill_asrun(event.value)


class PersonaApp(App[None]):
    TITLE = "Persona FM"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause"),
        Binding("s", "speed", "Speed"),
        Binding("n,right", "step(1)", "Step"),
        Binding("left", "step(-1)", "Back", show=False),
        Binding("left_square_bracket", "jump(-3600)", "-1h", show=False),
        Binding("right_square_bracket", "jump(3600)", "+1h", show=False),
        Binding("g", "goto", "Go to"),
        Binding("t", "speech", "Speech"),
        Binding("b", "scoreboard", "Scoreboard"),
        Binding("enter", "open_focused", "Open", show=False),
        Binding("up", f"focus_card({-GRID_COLUMNS})", show=False),
        Binding("down", f"focus_card({GRID_COLUMNS})", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "focus_card(-1_000_000)", show=False),
        Binding("end", "focus_card(1_000_000)", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        *[Binding(str(i), f"open_station({i})", show=False) for i in range(1, 10)],
    ]

    def __init__(
        self,
        source: Source,
        speaker: Any = None,
        refresh_s: float = 0.2,
        store: Engine | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.store = store  # where the run is stored: the scoreboard screen reads it
        self.speaker = speaker
        self.refresh_s = refresh_s
        self.cards: dict[str, StationCard] = {}
        self._spoken: dict[str, float] = {}
        self._speech_on = False
        self._speech_warned = False
        self._error_shown = False
        # kept as attributes: the refresh tick runs while other screens are on top
        self.status_bar = StatusBar(id="status")
        self.grid = CardGrid(id="grid")

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.status_bar
        yield self.grid
        yield Footer()

    def on_mount(self) -> None:
        if self.speaker is not None:  # the engine and audio check can take a moment
            self.run_worker(self.speaker.start, thread=True, name="speech-start")
        self.source.start()
        self.refresh_view()
        self.set_interval(self.refresh_s, self.refresh_view)
        self._freeze_rows()
        self.set_interval(FREEZE_EVERY_S, self._freeze_rows)

    def _freeze_rows(self) -> None:
        """Move the timeline's rows (long-lived, many) out of the garbage collector's sight:
        a full collection over a month of rows would otherwise stall a key press."""
        gc.freeze()

    def on_unmount(self) -> None:
        self.source.stop()
        if self.speaker is not None:
            self.speaker.stop()

    @property
    def now_s(self) -> float:
        return self.source.now()

    @property
    def timeline(self) -> Timeline:
        return self.source.timeline

    def refresh_view(self) -> None:
        self.source.poll()
        if len(self.screen_stack) > 1 and isinstance(self.screen, StationScreen):
            return  # the grid is hidden: keep the station screen's keys snappy
        tl = self.timeline
        new = [cs for cs in tl.order() if cs not in self.cards]
        for call_sign in new:
            card = StationCard(call_sign, len(self.cards) + 1)
            self.cards[call_sign] = card
            self.grid.mount(card)
        if new:
            self.call_after_refresh(self.grid.fit)
        t = self.now_s
        waiting = self.source.waiting()
        self._refresh_cards(t, waiting)
        self._speak(t)
        self.status_bar.update(self._status(t, waiting))
        error = getattr(self.source, "error", None)
        if error is not None and not self._error_shown:
            self._error_shown = True
            self.notify(f"simulation stopped: {error}", severity="error", timeout=30)

    def _refresh_cards(self, t: float, waiting: dict[str, float]) -> None:
        """Redraw the cards in view (and any never drawn): with a hundred stations most are
        scrolled away, and a card left unchanged is not drawn again."""
        tl = self.timeline
        for call_sign, card in self.cards.items():
            if card.last is None or self._in_view(card):
                card.show(tl.card(call_sign, t), waiting.get(call_sign))

    def _in_view(self, card: StationCard) -> bool:
        try:
            return self.grid.can_view_partial(card)
        except NoScreen:  # a last tick while the app closes
            return False

    def _status(self, t: float, waiting: dict[str, float] | None = None) -> Text:
        tl = self.timeline
        src = self.source
        state = "⏸ paused" if src.paused else "▶ playing"
        if src.mode == "attach":
            state = "⏸ holding" if src.paused else "● following"
        if src.finished:
            state = "■ finished"
        speech = "  🔊 speech" if self._speech_on else ""
        text = Text.assemble(
            (f" {tl.name}", "bold"),
            f" · seed {tl.seed} · {src.mode} · ",
            (tl.clock.label(t), "bold"),
            f" {tl.clock.daypart(t)} · {state} · speed {speed_label(src.speed)}{speech}",
        )
        if waiting:
            text.append(
                f"  ⏳ {len(waiting)} waiting on model {int(max(waiting.values()))} s",
                style="bold yellow",
            )
        return text

    # -- speech -----------------------------------------------------------------------------
    def _speak(self, t: float) -> None:
        if not self._speech_on or self.speaker is None:
            return
        focused = self.focused
        if not isinstance(focused, StationCard):
            return
        st = self.timeline.view(focused.call_sign)
        last = self._spoken.get(focused.call_sign, t)
        for seg in st.words[bisect_right(st.words_t, last) : bisect_right(st.words_t, t)]:
            self.speaker.say(focused.call_sign, seg.text or "")
        self._spoken[focused.call_sign] = t

    def action_speech(self) -> None:
        if self.speaker is None or not getattr(self.speaker, "available", False):
            if not self._speech_warned:  # say it once, then carry on silently
                self._speech_warned = True
                problem = getattr(self.speaker, "problem", None) or "speech is not available"
                self.notify(problem, severity="warning")
            return
        self._speech_on = not self._speech_on
        self._spoken.clear()
        if not self._speech_on:
            self.speaker.clear()

    # -- actions ----------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.source.toggle_pause()
        self.refresh_view()

    def action_speed(self) -> None:
        self.source.cycle_speed()
        self.refresh_view()

    def action_step(self, direction: int) -> None:
        before = self.now_s
        self.source.step(direction)
        if direction > 0 and self.now_s == before:
            self._say_end()
        self.refresh_view()

    def action_jump(self, seconds: float) -> None:
        self.seek(self.now_s + seconds)

    def action_goto(self) -> None:
        def go(t: float | None) -> None:
            if t is not None:
                self.seek(t)

        self.push_screen(GotoScreen(), go)

    def seek(self, t: float) -> None:
        self.source.seek(t)
        if isinstance(self.source, StoredSource) and t > self.source.end_s:
            self._say_end()
        self.refresh_view()

    def _say_end(self) -> None:
        """A seek or step past the end of a stored run stops at its end: say so."""
        source = self.source
        if not isinstance(source, StoredSource):
            return
        end = self.timeline.clock.label(source.end_s)
        if source.mode == "attach":
            self.notify(f"the run has got to {end} so far; stopped there")
        else:
            self.notify(f"the run ends at {end}; stopped there")

    # -- moving between cards ---------------------------------------------------------------
    def _on_grid(self) -> bool:
        try:
            return self.screen is self.grid.screen and bool(self.cards)
        except (NoScreen, ScreenStackError):  # a key that arrives while the app closes
            return False

    def _card_index(self) -> int | None:
        focused = self.focused
        return focused.index - 1 if isinstance(focused, StationCard) else None

    def action_focus_card(self, delta: int) -> None:
        """Focus the card ``delta`` cards on (a row is ``GRID_COLUMNS``); it scrolls into view."""
        if not self._on_grid():
            return
        at = self._card_index()
        cards = list(self.cards.values())
        if at is None and abs(delta) <= GRID_COLUMNS:  # nothing focused yet: the first card
            at, delta = 0, 0
        cards[max(0, min(len(cards) - 1, (at or 0) + delta))].focus()
        self.call_after_refresh(self.refresh_view)  # draw the cards scrolled into view

    def action_page(self, direction: int) -> None:
        """Focus the card a screenful on and scroll its row to the top."""
        if not self._on_grid():
            return
        at = self._card_index()
        cards = list(self.cards.values())
        if at is None:  # nothing focused yet: the first (or last) card
            target = cards[0] if direction > 0 else cards[-1]
        else:
            at += direction * self.grid.cards_per_page
            target = cards[max(0, min(len(cards) - 1, at))]
        target.focus(scroll_visible=False)
        self.grid.scroll_to_widget(target, animate=False, top=True)
        self.call_after_refresh(self.refresh_view)

    def action_scoreboard(self) -> None:
        run_id = self.timeline.run_id
        if self.store is None or not run_id:
            self.notify(
                "the scoreboard reads a stored run: replay or attach to one "
                "(a live run: once it has finished)",
                severity="warning",
            )
            return
        from tui.scoreboard import ScoreboardScreen

        self.push_screen(ScoreboardScreen(self.store, run_id))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_open_station(self, index: int) -> None:
        order = list(self.cards)
        if 1 <= index <= len(order):
            await self.open_station(order[index - 1])

    async def action_open_focused(self) -> None:
        if isinstance(self.focused, StationCard):
            await self.open_station(self.focused.call_sign)

    async def open_station(self, call_sign: str) -> None:
        """One station screen is built once and kept: opening it again, for any station,
        is a refill, not a build."""
        if self.is_screen_installed("station"):
            screen = self.get_screen("station")
            assert isinstance(screen, StationScreen)
            await self.push_screen("station")
            await screen.show_at(self.now_s, call_sign)
        else:
            self.install_screen(StationScreen(self.timeline, call_sign, self.now_s), "station")
            await self.push_screen("station")

    def action_quit(self) -> None:  # type: ignore[override]
        self.exit()
