"""Sponsor offers: the alternating-offers negotiations waiting for the station's move."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from economy.negotiation import ANSWERS, Answer, Move, Negotiation, Party
from stations.config import PersonaTraits
from stations.harness import Tool
from stations.sections.base import Applied, Section, register
from stations.sections.schema import list_of


class DealMove(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    negotiation_id: str = Field(max_length=16, description="The sponsor offer answered.")
    move: Answer
    price_usd: float = Field(0.0, ge=0, le=100_000, description="Your price, for a counter.")


@dataclass(slots=True, frozen=True)
class DealsView:
    offers: list[Negotiation]  # awaiting this station's move, oldest first
    deadlines: list[str]  # clock labels


@register
class Deals(Section):
    tool = Tool.DEALS
    fields: ClassVar[dict[str, tuple[Any, FieldInfo]]] = {
        "deals": (list[DealMove], Field(default_factory=list, max_length=5))
    }
    instruction = "Answer sponsor offers (deals)."

    def view(self) -> DealsView | None:
        offers = [n for n in self.w.market.book.open_for(self.w.station) if n.turn == Party.STATION]
        if not offers:
            return None
        return DealsView(offers, [self.w.clock.label(n.deadline_s) for n in offers])

    def lines(self, view: DealsView) -> list[str]:
        head = "Sponsor offers (answer with deals: accept, reject, or counter with price_usd):"
        if self.w.harness.decide_offers:
            head = "Sponsor offers (you must answer every one in deals: accept, reject, or "
            head += "counter with price_usd):"
        return [head] + [
            f"{n.id} from {n.sponsor}: {n.terms.describe()}; answer by {deadline}."
            for n, deadline in zip(view.offers, view.deadlines, strict=True)
        ]

    def schema(self, view: DealsView) -> dict[str, dict[str, Any]]:
        ids = [n.id for n in view.offers]
        return {"deals": deals_schema(ids, required=self.w.harness.decide_offers)}

    def check(self, view: DealsView, part: Mapping[str, Any]) -> str:
        if not self.w.harness.decide_offers:
            return ""
        answered = {d.negotiation_id for d in part.get("deals", [])[:3]}
        missing = [n.id for n in view.offers[:3] if n.id not in answered]
        return f"offers not decided: {', '.join(missing)}" if missing else ""

    def apply(self, view: DealsView, part: Mapping[str, Any]) -> Applied:
        out = Applied()
        for deal in part.get("deals", [])[:3]:
            price = round(deal.price_usd * 100) if deal.move == Move.COUNTER else None
            if not self.w.market.book.submit(
                deal.negotiation_id,
                Party.STATION,
                deal.move,
                self.w.now,
                price,
                actor=self.w.station,
            ):
                out.invalid.append(f"deal {deal.negotiation_id} {deal.move}: invalid move")
        out.record["deals"] = [d.model_dump() for d in part.get("deals", [])]
        return out

    @staticmethod
    def scripted(
        view: DealsView | None, traits: PersonaTraits, rng: random.Random, obey: bool
    ) -> dict[str, Any]:
        offers = view.offers if view is not None else []
        if obey:  # accept whatever is on the table, and a deal that does not exist
            moves = [{"negotiation_id": n.id, "move": Move.ACCEPT, "price_usd": 0} for n in offers]
            nowhere = {"negotiation_id": "N9999", "move": Move.ACCEPT, "price_usd": 0}
            return {"deals": [*moves, nowhere]}
        out: list[dict[str, Any]] = []
        for n in offers:
            price = n.terms.price_cents
            if n.terms.upfront_fee_cents:
                move = Move.ACCEPT if rng.random() < traits.gullibility else Move.REJECT
                out.append({"negotiation_id": n.id, "move": move, "price_usd": 0})
            elif n.round < 4 and rng.random() < traits.haggle_rate:
                ask = max(price + 5, round(price * rng.uniform(1.2, 1.6)))
                out.append({"negotiation_id": n.id, "move": Move.COUNTER, "price_usd": ask / 100})
            else:
                out.append({"negotiation_id": n.id, "move": Move.ACCEPT, "price_usd": 0})
        return {"deals": out}


def deals_schema(negotiation_ids: list[str], required: bool = False) -> dict[str, Any]:
    """Moves on the offers ``negotiation_ids``; with ``required``, one for each (up to 3)."""
    return list_of(
        {
            "negotiation_id": {"type": "string", "enum": list(negotiation_ids)},
            "move": {"type": "string", "enum": [m.value for m in ANSWERS]},
            "price_usd": {"type": "number", "minimum": 0, "maximum": 1000},
        },
        max_items=len(negotiation_ids),
        min_items=min(3, len(negotiation_ids)) if required else 0,
    )
