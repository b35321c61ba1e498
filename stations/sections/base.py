"""A section: one part of the market as a station sees and acts on it.

Each section owns its slice of a turn: the lines it adds to the observation,
the fields it adds to the turn's schema (narrowed to the ids on offer), the
handler for those fields, and how a scripted persona fills them. The station
iterates over its sections and never names one, so adding a section is one
module plus its ``@register`` line (``stations.sections.callins`` is one).

A section instance belongs to one station for a whole run, so it may keep
that station's state (the ad spots scheduled, the calls on hold).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import simpy
from pydantic.fields import FieldInfo

from economy.catalog import Song
from economy.market import Market
from economy.negotiation import NegotiationFault
from sim.bus import EventBus
from sim.clock import SimClock
from sim.events import Fault
from stations.config import PersonaTraits
from stations.harness import HarnessConfig, Tool


@dataclass(slots=True)
class SectionWorld:
    """What a section may touch: the market, and the station it serves."""

    station: str
    env: simpy.Environment
    bus: EventBus
    clock: SimClock
    market: Market
    harness: HarnessConfig
    library: Callable[[], Mapping[str, Song]]  # the station's songs, as owned now
    clean_talk: Callable[[str], str]  # words as they may air (length bound, spacing)

    @property
    def now(self) -> float:
        return self.env.now


@dataclass(slots=True)
class Applied:
    """What a section's part of a turn did.

    ``talk``: (words, ref) to air in the next break, ``ref`` linking them to what
    they answer; ``songs``: song ids to queue (the station checks ownership);
    ``refused``: reasons, logged as ``rule_rejected`` faults; ``invalid``: moves
    the market already logged as faults.
    """

    talk: list[tuple[str, str | None]] = field(default_factory=list)
    songs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)  # what the turn row stores


@dataclass(slots=True)
class DedicatedTurn:
    """A turn of its own (a caller on the line): its prompt, schema and how it settles.

    ``schema`` is the structured answer (single turns); in a split turn the model
    answers in plain words, which fill ``text_field``. ``settle`` gets the parsed
    answer (None with a reason when there is none) and returns what to air.
    """

    ref: str
    prompt: str
    text_prompt: str
    schema: dict[str, Any]
    text_field: str
    tool_name: str
    context: Any
    settle: Callable[[dict[str, Any] | None, str], Applied]


class Section:
    """Base class: a section that shows nothing and does nothing until it overrides."""

    tool: ClassVar[Tool]
    # The turn fields this section owns, as pydantic (type, Field) pairs.
    fields: ClassVar[dict[str, tuple[Any, FieldInfo]]] = {}
    # Words for the turn's instructions ("Answer listener messages (replies)").
    instruction: ClassVar[str] = ""

    def __init__(self, world: SectionWorld) -> None:
        self.w = world

    # -- the turn ---------------------------------------------------------------------------
    def view(self) -> Any | None:
        """What the station sees this turn; None when there is nothing (no lines, no fields)."""
        return None

    def lines(self, view: Any) -> list[str]:
        return []

    @staticmethod
    def requests(view: Any) -> list[tuple[Song, int]]:
        """Songs listeners asked for in ``view``, with the cents offered: the station
        shows them as queueable or buyable."""
        return []

    @staticmethod
    def cues(view: Any) -> set[str]:
        """Probe categories in ``view`` (a scripted persona's known-answer cue only)."""
        return set()

    def schema(self, view: Any) -> dict[str, dict[str, Any]]:
        """JSON schema of this section's fields, narrowed to ``view``."""
        return {}

    def check(self, view: Any, part: Mapping[str, Any]) -> str:
        """Why the turn as a whole must be refused ("" if it may be applied)."""
        return ""

    def apply(self, view: Any, part: Mapping[str, Any]) -> Applied:
        return Applied()

    def foreign(self, what: str, item_id: str, owner_of: Callable[[str], str | None]) -> bool:
        """Whether ``item_id`` belongs to another station; if so, log the attempt as ours."""
        owner = owner_of(item_id)
        if owner is None or owner == self.w.station:
            return False
        detail = f"{what} {item_id}, which belongs to another station"
        self.w.bus.publish(Fault(self.w.now, self.w.station, NegotiationFault.FOREIGN_ID, detail))
        return True

    # -- outside a turn -----------------------------------------------------------------------
    def break_spots(self, slots: int) -> list[str]:
        """Texts to air in an ad break's first ``slots`` spots (sponsor reads)."""
        return []

    def dedicated_turns(self) -> list[DedicatedTurn]:
        """Turns of their own to take now (each once)."""
        return []

    # -- a scripted persona's answer ----------------------------------------------------------
    @staticmethod
    def scripted(
        view: Any, traits: PersonaTraits, rng: random.Random, obey: bool
    ) -> dict[str, Any]:
        """This section's fields as a scripted persona fills them; ``obey``: the persona is
        trying to act on an injected instruction with whatever this section can reach."""
        return {}


SECTIONS: dict[Tool, type[Section]] = {}


def registered() -> list[type[Section]]:
    """Every section, in the order of ``Tool`` (the order their lines appear in a prompt)."""
    return [SECTIONS[tool] for tool in Tool if tool in SECTIONS]


def register(cls: type[Section]) -> type[Section]:
    """Add a section to every station that has its tool (in registration order)."""
    if cls.tool in SECTIONS:
        raise ValueError(f"section {cls.tool} registered twice")
    SECTIONS[cls.tool] = cls
    return cls


# Scripted answers to requests that are not station turns (a sponsor's move, a call-in),
# keyed by the request's tool name: the scripted provider looks them up here.
ScriptedAnswer = Callable[[Any, PersonaTraits | None, random.Random | None], dict[str, Any]]
SCRIPTED_ANSWERS: dict[str, ScriptedAnswer] = {}


def scripted_answer(tool_name: str) -> Callable[[ScriptedAnswer], ScriptedAnswer]:
    def add(fn: ScriptedAnswer) -> ScriptedAnswer:
        SCRIPTED_ANSWERS[tool_name] = fn
        return fn

    return add
