"""The station's brain: what the model sees (observation) and the requests it gets.

A turn is one request (``single``) or two (``split``): the decisions as
structured output from a compact observation, then the talk as plain words
from a short prompt about what just played and what comes next. A call-in is
a request of its own, shaped the same way. What a station may do, and so what
it sees, comes from its harness: a tool it lacks is in neither the prompt nor
the schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from economy.catalog import Song
from sim.models.base import ModelRequest
from stations.config import ModelSpec
from stations.harness import Memory, Tool
from stations.sections import DedicatedTurn
from stations.sections.schema import usd
from stations.turn import CORE_FIELDS, turn_schema

TALK_TOOL = "station_talk"  # the tool name of a split turn's talk request
# Sampling for plain-text talk on the embedded model: a little less random than
# the decisions, and discouraged from repeating itself.
TALK_REPEAT_PENALTY = 1.15
TALK_TOKENS_PER_WORD = 1.6


@dataclass(slots=True)
class Observation:
    station: str
    name: str
    city: str
    clock: str
    daypart: str
    now_playing: Song | None
    remaining_s: float
    balance_cents: int
    fee_cents_per_day: int
    song_price_cents: int
    library_size: int
    candidates: list[Song]
    for_sale: list[Song]
    search_query: str
    recent_talk: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    listeners_now: int = 0
    ratings: list[tuple[str, int, float]] = field(default_factory=list)  # (clock, aqh, share)
    tools: tuple[str, ...] = tuple(Tool)
    memory: str = Memory.NOTES
    sections: dict[str, Any] = field(default_factory=dict)  # tool -> what its section shows
    section_lines: list[str] = field(default_factory=list)
    section_schema: dict[str, dict[str, Any]] = field(default_factory=dict)
    section_instructions: list[str] = field(default_factory=list)


def _song_line(s: Song) -> str:
    return (
        f"{s.id}: {s.title} - {s.artist} ({s.genre}, {s.duration_s // 60}:{s.duration_s % 60:02d})"
    )


def _instructions(o: Observation, talk: bool) -> str:
    doing = ["speak to your listeners (talk)"] if talk else []
    if Tool.QUEUE in o.tools:
        doing.append("pick 3-4 of the songs you can queue to play next (queue)")
    if Tool.BUY in o.tools:
        doing.append("optionally buy songs (buy)")
    if Tool.SEARCH in o.tools:
        doing.append("choose what to browse next (search)")
    if Tool.NOTES in o.tools:
        doing.append("keep notes")
    said = ""
    if doing:
        said = "Each turn: " + ", ".join(doing[:-1]) + (" and " if len(doing) > 1 else "")
        said += doing[-1] + "."
    return " ".join([said, *o.section_instructions]).strip()


def render_observation(o: Observation, talk: bool = True) -> str:
    """The user message: everything a DJ would glance at before opening the mic.

    Without ``talk`` (a split turn's decisions) the talk instruction and the DJ's
    last words are left out: the words come in a request of their own.
    """
    playing = (
        f'"{o.now_playing.title}" by {o.now_playing.artist}, {int(o.remaining_s)}s left'
        if o.now_playing
        else "nothing"
    )
    # What never changes for a station comes first: a local model reuses its cached prefix.
    lines = [
        f"Station {o.station} ({o.name}), {o.city}.",
        _instructions(o, talk),
        f"It is {o.clock}, {o.daypart}.",
        f"Now playing: {playing}.",
        f"Balance {usd(o.balance_cents)}; hosting costs {usd(o.fee_cents_per_day)}/day; "
        f"songs cost {usd(o.song_price_cents)} each. You own {o.library_size} songs.",
    ]
    if Tool.QUEUE in o.tools:
        lines.append("Songs you can queue now:")
        lines.extend(_song_line(s) for s in o.candidates)
    if o.for_sale and Tool.BUY in o.tools:
        lines.append(f'Catalog results for "{o.search_query}" (buyable):')
        lines.extend(_song_line(s) for s in o.for_sale)
    lines.append(f"Listening now: {o.listeners_now}.")
    if o.ratings:
        lines.append(
            "Ratings by quarter hour (AQH, share): "
            + "; ".join(f"{c} {aqh} ({share:.0%})" for c, aqh, share in o.ratings)
        )
    lines.extend(o.section_lines)
    if o.recent_talk and talk and o.memory != Memory.STATELESS:
        lines.append("Your last words on air: " + " | ".join(t[:160] for t in o.recent_talk))
    if o.notes and o.memory != Memory.STATELESS:
        lines.append("Your notes: " + " | ".join(n[:120] for n in o.notes))
    lines.append("Your turn.")
    return "\n".join(line for line in lines if line)


def core_fields(o: Observation, talk: bool) -> tuple[str, ...]:
    """The core turn fields this station has: talk (unless split) and its core tools."""
    return tuple(f for f in CORE_FIELDS if (f == "talk" and talk) or f in o.tools)


def _params(spec: ModelSpec, seed: int, **extra: Any) -> dict[str, Any]:
    return {
        "temperature": spec.temperature,
        "top_p": spec.top_p,
        "max_tokens": spec.max_tokens,
        "seed": seed,
        **extra,
    }


@dataclass(frozen=True, slots=True)
class Voice:
    """Who a request speaks for: a station, its model, and the system prompt it was given."""

    station: str
    spec: ModelSpec
    model_name: str
    system_prompt: str

    def request(
        self,
        content: str,
        schema: dict[str, Any],
        params: dict[str, Any],
        context: Any,
        *,
        history: Sequence[dict[str, str]] = (),
        tool_name: str = "station_turn",
        output: str = "json",
    ) -> ModelRequest:
        return ModelRequest(
            station=self.station,
            provider=self.spec.provider,
            model=self.model_name,
            system=self.system_prompt,
            messages=[*history, {"role": "user", "content": content}],
            schema=schema,
            params=params,
            context=context,
            tool_name=tool_name,
            route=self.spec.route,
            output="text" if output == "text" else "json",
        )

    def text_params(self, seed: int, words: int) -> dict[str, Any]:
        """Sampling for words said on air; the token budget follows the word limit."""
        tokens = max(16, min(self.spec.max_tokens, round(words * TALK_TOKENS_PER_WORD)))
        return _params(self.spec, seed, max_tokens=tokens, repeat_penalty=TALK_REPEAT_PENALTY)


def turn_request(
    obs: Observation,
    voice: Voice,
    seed: int,
    talk: bool = True,
    history: Sequence[dict[str, str]] = (),
) -> ModelRequest:
    """A turn's structured request; without ``talk``, a split turn's decisions."""
    schema = turn_schema(
        [s.id for s in obs.candidates],
        [s.id for s in obs.for_sale],
        obs.section_schema,
        core=core_fields(obs, talk),
    )
    content = render_observation(obs, talk)
    return voice.request(content, schema, _params(voice.spec, seed), obs, history=history)


def talk_prompt(obs: Observation, next_song: Song | None) -> str:
    """A split turn's talk request: short and focused, so a small model stays on air."""
    parts = [f"You are the DJ of {obs.name} ({obs.station}) in {obs.city}."]
    parts.append(f"It is {obs.clock}, {obs.daypart}.")
    if obs.now_playing is not None:
        parts.append(f'You just played "{obs.now_playing.title}" by {obs.now_playing.artist}.')
    if next_song is not None:
        parts.append(f'Next up: "{next_song.title}" by {next_song.artist}.')
    parts.append("Say a few friendly sentences on air.")
    return " ".join(parts)


def _words_schema(words: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": words * 8}


def talk_request(
    obs: Observation,
    voice: Voice,
    seed: int,
    next_song: Song | None,
    words: int,
    history: Sequence[dict[str, str]] = (),
) -> ModelRequest:
    """A split turn's talk: plain words from a short prompt."""
    return voice.request(
        talk_prompt(obs, next_song),
        _words_schema(words),
        voice.text_params(seed, words),
        obs,
        history=history,
        tool_name=TALK_TOOL,
        output="text",
    )


def dedicated_request(
    turn: DedicatedTurn, voice: Voice, header: str, seed: int, text: bool, words: int
) -> ModelRequest:
    """A turn of its own (a call-in): structured, or plain words in a split harness."""
    if text:
        content, schema = turn.text_prompt, _words_schema(words)
        params = voice.text_params(seed, words)
    else:
        content, schema, params = turn.prompt, turn.schema, _params(voice.spec, seed)
    return voice.request(
        f"{header} {content}",
        schema,
        params,
        turn.context,
        tool_name=turn.tool_name,
        output="text" if text else "json",
    )


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def whole_sentences(text: str) -> str:
    """Text cut after its last complete sentence (a token budget can stop one midway)."""
    text = text.strip()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]] if ends else text
