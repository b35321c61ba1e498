"""The Persona FM terminal UI: a grid of station cards, a station screen, help.

One app serves ``watch`` (a live simulation), ``replay`` (a stored run) and
``watch --attach`` (a run another process is writing): the source fills the
timeline and the UI renders the timeline at the source's current time on a
refresh tick. Nothing off the UI thread touches a widget.

The cards are in ``tui.cards``, the station screen in ``tui.station_screen``, and the
help and go-to dialogs in ``tui.dialogs``.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy import Engine
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.dom import NoScreen
from textual.widgets import Footer

from tui.cards import GRID_COLUMNS, CardGrid, StationCard, StatusBar
from tui.dialogs import GotoScreen, HelpScreen
from tui.sources import Source, StoredSource, speed_label
from tui.station_screen import StationScreen
from tui.timeline import Timeline

FREEZE_EVERY_S = 20.0


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
