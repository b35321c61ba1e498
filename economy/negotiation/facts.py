"""The negotiation's stored fact: ``NegotiationMoved``, one move of one negotiation, and the
``negotiations`` table ``@stored`` derives from it (``NegotiationRow``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Index

from economy.negotiation.vocabulary import Move, NegotiationStatus, Party
from sim.events import Event, column, stored, table_of


@stored(
    "negotiations",
    "NegotiationRow",
    indexes=(Index("ix_negotiations_run_station", "run_id", "station"),),
)
@dataclass(slots=True, frozen=True)
class NegotiationMoved(Event):
    """One move of one negotiation; ``counterparty`` is the sponsor."""

    station: str
    negotiation_id: str = column(index=True)
    counterparty: str
    round: int
    party: Party
    move: Move
    terms_json: str
    status_after: NegotiationStatus


NegotiationRow = table_of(NegotiationMoved)
