"""The harness: what a station's model is given to work with, as an experiment axis.

Andon FM found that a richer back office changed how the stations behaved, so
the tools, the memory and the shape of a turn are settings of a run, stored
with it, like the prompt and the model. ``[harness]`` in a scenario applies to
every station; ``[stations.harness]`` overrides it for one.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Tool(StrEnum):
    """What a station can do. The core tools shape the turn; the others are market sections."""

    QUEUE = "queue"
    BUY = "buy"
    SEARCH = "search"
    NOTES = "notes"
    MAIL = "mail"
    CALLINS = "callins"
    DEALS = "deals"
    ADS = "ads"
    DONATIONS = "donations"


class Memory(StrEnum):
    STATELESS = "stateless"  # each turn sees only the station as it is now
    NOTES = "notes"  # plus its own last words and the notes it kept (the default)
    TRANSCRIPT = "transcript"  # plus its last turns as chat history, oldest dropped first


class TurnShape(StrEnum):
    SINGLE = "single"  # one structured answer: decisions and talk together
    SPLIT = "split"  # decisions as structured output, talk and call-in answers as plain text
    AUTO = "auto"  # split for the embedded local model, single for the others


ALL_TOOLS: tuple[Tool, ...] = tuple(Tool)


class HarnessConfig(BaseModel):
    """``[harness]``: tools, memory and turn shape. Every field may be overridden per station."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    tools: list[Tool] = Field(
        default_factory=lambda: list(ALL_TOOLS),
        max_length=len(ALL_TOOLS),
        description="What the station can do: queue, buy, search, notes, mail, callins, "
        "deals, ads, donations. A station never sees a tool it lacks.",
    )
    memory: Memory = Field(Memory.NOTES, description="stateless | notes | transcript")
    transcript_turns: int = Field(
        6, ge=1, le=200, description="transcript: the most past turns kept as chat history."
    )
    transcript_tokens: int = Field(
        1200,
        ge=100,
        le=200_000,
        description="transcript: history budget in tokens (~4 characters each); the oldest "
        "turns are dropped, and the drop logged, to stay within it.",
    )
    turn_shape: TurnShape = Field(TurnShape.AUTO, description="single | split | auto")
    decide_offers: bool = Field(
        False,
        description="Every open sponsor offer must be answered in each turn; a turn that "
        "leaves one out is refused as a fault and rotation takes over.",
    )
    talk_words: int = Field(
        60, ge=5, le=400, description="split: the most words one talk break or answer may have."
    )

    @model_validator(mode="after")
    def _check(self) -> HarnessConfig:
        if len(set(self.tools)) != len(self.tools):
            raise ValueError("tools: each tool once")
        return self

    def has(self, tool: Tool | str) -> bool:
        return Tool(tool) in self.tools

    def shape_for(self, provider: str) -> TurnShape:
        """The turn shape a station on ``provider`` uses."""
        if self.turn_shape != TurnShape.AUTO:
            return self.turn_shape
        return TurnShape.SPLIT if provider == "local" else TurnShape.SINGLE
