"""A model-driven sponsor's side of a negotiation: what it sees (``SponsorView``), the
request that asks its model for a move (system prompt, user text, tool schema), how its
answer is parsed into a bounded move (``parse_move``), and the faults filed when its tactic
has to replace an answer (``SponsorFault``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from economy.negotiation import ANSWERS, Move, Negotiation, Terms, TimeDependentTactic
from economy.sponsors.config import SponsorModel
from economy.sponsors.roster import Sponsor
from sim.events import fault_kinds
from sim.models.base import ModelRequest
from sim.safejson import UnsafeJSON, finite_number, loads_bounded
from sim.vocabulary import Vocabulary


@dataclass(slots=True, frozen=True)
class SponsorView:
    """What a model-driven sponsor sees (the request's ``context``)."""

    sponsor: str
    category: str
    negotiation_id: str
    terms: Terms
    station_price_cents: int
    reservation_cents: int
    tactic_price_cents: int
    elapsed: float  # share of the time to the deadline already gone, 0..1


@fault_kinds
class SponsorFault(Vocabulary):
    """A model-driven sponsor's answer that its tactic had to replace (filed under its account)."""

    SPONSOR_INVALID_OUTPUT = "sponsor_invalid_output"  # no usable move
    SPONSOR_OUT_OF_BOUNDS = "sponsor_out_of_bounds"  # beyond its reservation or its budget


SPONSOR_TOOL = "sponsor_move"  # the tool name of a model-driven sponsor's request
SPONSOR_SYSTEM = (
    "You buy radio airtime for a sponsor. Negotiate the price per spot (or per 1000 "
    "listeners) with the station. Answer with a move: accept the station's price, counter "
    "with your own price in US dollars, or reject."
)


def sponsor_move_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "move": {"type": "string", "enum": [m.value for m in ANSWERS]},
            "price_usd": {"type": "number", "minimum": 0, "maximum": 1000},
        },
        "required": ["move", "price_usd"],
    }


def sponsor_request(
    spec: SponsorModel,
    sponsor: Sponsor,
    neg: Negotiation,
    tactic: TimeDependentTactic,
    now: float,
    seed: int,
) -> ModelRequest:
    """Ask ``sponsor``'s model for its move on ``neg`` (``seed``: the request's sampling seed)."""
    span = max(1.0, neg.deadline_s - neg.opened_s)
    view = SponsorView(
        sponsor=sponsor.name,
        category=sponsor.category,
        negotiation_id=neg.id,
        terms=neg.terms,
        station_price_cents=neg.terms.price_cents,
        reservation_cents=sponsor.reservation_cents,
        tactic_price_cents=tactic.price_at(now),
        elapsed=min(1.0, (now - neg.opened_s) / span),
    )
    unit = "per 1000 listeners" if neg.terms.pricing == "cpm" else "per spot"
    text = (
        f"You are {sponsor.name} ({sponsor.category}). Deal {neg.id} with station "
        f"{neg.station}: {neg.terms.describe()}. The station asks "
        f"${neg.terms.price_cents / 100:.2f} {unit}. You will pay at most "
        f"${sponsor.reservation_cents / 100:.2f} {unit}. {view.elapsed:.0%} of the time to "
        "the deadline has passed. Your move?"
    )
    return ModelRequest(
        station=sponsor.account,
        provider=spec.provider,
        model=spec.model or f"{spec.provider}-sponsor",
        route=spec.route,
        system=SPONSOR_SYSTEM,
        messages=[{"role": "user", "content": text}],
        schema=sponsor_move_schema(),
        params={
            "temperature": spec.temperature,
            "top_p": spec.top_p,
            "max_tokens": spec.max_tokens,
            "seed": seed,
        },
        context=view,
        tool_name=SPONSOR_TOOL,
    )


MAX_MOVE_USD = 1000.0  # the schema's bound on a sponsor's price


def parse_move(text: str) -> tuple[Move, int | None] | None:
    """A sponsor model's answer as (move, price in cents for a counter), or None if unusable.

    Any size, depth or number (non-finite, huge, negative) is None, never an exception.
    """
    try:
        data = loads_bounded(text.strip(), max_chars=4_000, max_depth=4)
    except UnsafeJSON:
        return None
    if not isinstance(data, dict) or data.get("move") not in ANSWERS:
        return None
    move = Move(data["move"])
    if move != Move.COUNTER:
        return move, None
    usd = finite_number(data.get("price_usd"), 0.01, MAX_MOVE_USD)
    if usd is None:
        return None
    return move, round(usd * 100)
