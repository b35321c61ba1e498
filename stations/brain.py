"""The station's brain: what the model sees (observation) and the request it gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from economy.catalog import Song
from sim.models.base import ModelRequest
from stations.config import ModelSpec
from stations.turn import turn_schema


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
    inbox: list[Any] = field(default_factory=list)


def _usd(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _song_line(s: Song) -> str:
    return (
        f"{s.id}: {s.title} - {s.artist} ({s.genre}, {s.duration_s // 60}:{s.duration_s % 60:02d})"
    )


def render_observation(o: Observation) -> str:
    """The user message: everything a DJ would glance at before opening the mic."""
    playing = (
        f'"{o.now_playing.title}" by {o.now_playing.artist}, {int(o.remaining_s)}s left'
        if o.now_playing
        else "nothing"
    )
    lines = [
        f"Station {o.station} ({o.name}), {o.city}. {o.clock}, {o.daypart}.",
        f"Now playing: {playing}.",
        f"Balance {_usd(o.balance_cents)}; hosting costs {_usd(o.fee_cents_per_day)}/day; "
        f"songs cost {_usd(o.song_price_cents)} each. You own {o.library_size} songs.",
        "Songs you can queue now:",
        *(_song_line(s) for s in o.candidates),
    ]
    if o.for_sale:
        lines.append(f'Catalog results for "{o.search_query}" (buyable):')
        lines.extend(_song_line(s) for s in o.for_sale)
    if o.recent_talk:
        lines.append("Your last words on air: " + " | ".join(t[:160] for t in o.recent_talk))
    if o.notes:
        lines.append("Your notes: " + " | ".join(n[:120] for n in o.notes))
    lines.append(
        "Now speak to your listeners (talk), pick 3-4 of those songs to play next (queue), "
        "optionally buy songs (buy), choose what to browse next (search) and keep notes."
    )
    return "\n".join(lines)


def turn_request(
    obs: Observation, spec: ModelSpec, model_name: str, system_prompt: str, seed: int
) -> ModelRequest:
    return ModelRequest(
        station=obs.station,
        provider=spec.provider,
        model=model_name,
        system=system_prompt,
        messages=[{"role": "user", "content": render_observation(obs)}],
        schema=turn_schema([s.id for s in obs.candidates], [s.id for s in obs.for_sale]),
        params={
            "temperature": spec.temperature,
            "top_p": spec.top_p,
            "max_tokens": spec.max_tokens,
            "seed": seed,
        },
        context=obs,
    )
