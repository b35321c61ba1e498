"""The station screen: everything about one station up to the time shown, in panes (as-run,
talk, ledger, deals, messages, calls) built the first time each is shown, with a search
over the as-run log.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Log, Static

from economy.airplay import SegmentKind
from economy.contracts import ContractStatus
from economy.listeners import Via
from tui.cards import _segment_label, money, sparkline
from tui.timeline import TERMINAL, Timeline

TABLE_ROWS = 500  # rows shown per table (newest); search looks through all of them
ASRUN_ROWS = 1000  # newest as-run lines in the log (search looks through all of them)
NOTHING_YET = "nothing yet"


def _add_plain(table: DataTable, *cells: str) -> None:
    """A row whose text is shown as written: DataTable would read a str cell as markup."""
    table.add_row(*(Text(c) for c in cells))


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
