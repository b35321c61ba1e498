"""The UI's small modal screens: the key help (``?``) and "go to a time" (``g``)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.panel import Panel
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sim.clock import parse_duration


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
