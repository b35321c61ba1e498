"""The scoreboard screen: the persona scoreboard of the run the UI shows (key ``b``).

It is computed from the store in a worker thread (seconds for a long run), so
the UI stays responsive; for a run still being written it covers the rows so far.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from sqlalchemy import Engine
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from analysis.scoreboard import Scoreboard, analyze
from analysis.tables import divergence_table, table


class ScoreboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b", "back", "Back"),
        Binding("r", "recompute", "Recompute"),
    ]

    def __init__(self, engine: Engine, run_id: str) -> None:
        super().__init__()
        self.engine = engine
        self.run_id = run_id
        self.board: Scoreboard | None = None
        self.shown: Group | None = None  # what the screen shows, once computed
        self.body = Static(Text(f"computing the scoreboard of run {run_id}…"), id="board")

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Scoreboard · run {self.run_id}", style="bold"), id="title")
        yield VerticalScroll(self.body)
        yield Footer()

    def on_mount(self) -> None:
        self.action_recompute()

    def action_recompute(self) -> None:
        self.run_worker(self._compute, thread=True, exclusive=True, name="scoreboard")

    def _compute(self) -> None:
        try:
            board = analyze(self.engine, [self.run_id])
        except Exception as exc:  # shown, never a crash of the UI
            message = Text(f"cannot compute the scoreboard: {type(exc).__name__}: {exc}")
            self.app.call_from_thread(self.body.update, message)
            return
        self.board = board
        parts = [table(board)]
        if board.divergence:
            parts.append(divergence_table(board))
        self.shown = Group(*parts)
        self.app.call_from_thread(self.body.update, self.shown)

    def action_back(self) -> None:
        self.app.pop_screen()
