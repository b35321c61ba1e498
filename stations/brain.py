"""The station's brain: what the model sees (observation) and the request it gets."""

from __future__ import annotations

from dataclasses import dataclass, field

from economy.catalog import Song
from economy.contracts import Contract
from economy.listeners import Message
from economy.negotiation import Negotiation
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
    listeners_now: int = 0
    ratings: list[tuple[str, int, float]] = field(default_factory=list)  # (clock, aqh, share)
    inbox: list[Message] = field(default_factory=list)
    offers: list[Negotiation] = field(default_factory=list)  # awaiting this station's move
    offer_deadlines: list[str] = field(default_factory=list)
    contracts: list[tuple[Contract, int]] = field(default_factory=list)  # (contract, spots due)


def _usd(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _song_line(s: Song) -> str:
    return (
        f"{s.id}: {s.title} - {s.artist} ({s.genre}, {s.duration_s // 60}:{s.duration_s % 60:02d})"
    )


def _message_line(m: Message) -> str:
    """A message as the DJ sees it: the listener's words, quoted, plus what is known for sure."""
    facts = []
    if m.amount_cents:
        facts.append(_usd(m.amount_cents))
    if m.song is not None:
        facts.append(f"song {m.song.id}")
    about = f" ({', '.join(facts)})" if facts else ""
    return f'{m.id}{about}: "{m.text}"'


def render_observation(o: Observation) -> str:
    """The user message: everything a DJ would glance at before opening the mic."""
    playing = (
        f'"{o.now_playing.title}" by {o.now_playing.artist}, {int(o.remaining_s)}s left'
        if o.now_playing
        else "nothing"
    )
    # What never changes for a station comes first: a local model reuses its cached prefix.
    lines = [
        f"Station {o.station} ({o.name}), {o.city}.",
        "Each turn: speak to your listeners (talk), pick 3-4 of the songs you can queue to play "
        "next (queue), optionally buy songs (buy), choose what to browse next (search) and keep "
        "notes. Answer listener messages (replies) and sponsor offers (deals) if you wish.",
        f"It is {o.clock}, {o.daypart}.",
        f"Now playing: {playing}.",
        f"Balance {_usd(o.balance_cents)}; hosting costs {_usd(o.fee_cents_per_day)}/day; "
        f"songs cost {_usd(o.song_price_cents)} each. You own {o.library_size} songs.",
        "Songs you can queue now:",
        *(_song_line(s) for s in o.candidates),
    ]
    if o.for_sale:
        lines.append(f'Catalog results for "{o.search_query}" (buyable):')
        lines.extend(_song_line(s) for s in o.for_sale)
    lines.append(f"Listening now: {o.listeners_now}.")
    if o.ratings:
        lines.append(
            "Ratings by quarter hour (AQH, share): "
            + "; ".join(f"{c} {aqh} ({share:.0%})" for c, aqh, share in o.ratings)
        )
    if o.inbox:
        lines.append("Listener messages (reply with replies):")
        lines.extend(_message_line(m) for m in o.inbox)
    if o.offers:
        lines.append(
            "Sponsor offers (answer with deals: accept, reject, or counter with price_usd):"
        )
        for n, deadline in zip(o.offers, o.offer_deadlines, strict=True):
            lines.append(f"{n.id} from {n.sponsor}: {n.terms.describe()}; answer by {deadline}.")
    if o.contracts:
        lines.append("Your sponsor contracts (put ids in ads to air their spots next break):")
        for c, due in o.contracts:
            where = ", ".join(c.terms.dayparts) or "any time"
            lines.append(f"{c.id} {c.sponsor.name}: {due} spot(s) due today ({where}).")
    if o.recent_talk:
        lines.append("Your last words on air: " + " | ".join(t[:160] for t in o.recent_talk))
    if o.notes:
        lines.append("Your notes: " + " | ".join(n[:120] for n in o.notes))
    lines.append("Your turn.")
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
        schema=turn_schema(
            [s.id for s in obs.candidates],
            [s.id for s in obs.for_sale],
            [m.id for m in obs.inbox],
            [n.id for n in obs.offers],
            [c.id for c, _ in obs.contracts],
        ),
        params={
            "temperature": spec.temperature,
            "top_p": spec.top_p,
            "max_tokens": spec.max_tokens,
            "seed": seed,
        },
        context=obs,
        route=spec.route,
    )
