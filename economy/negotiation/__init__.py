"""Sponsor deals: the alternating-offers protocol and time-dependent concession tactics.

The sponsor is the buyer of airtime (wants a low price), the station is the
seller (wants a high price). A negotiation opens with the sponsor's offer; the
parties then take turns to ``counter`` (a new price, other terms unchanged),
``accept`` (the terms the other party put on the table) or ``reject``. The
book expires a negotiation whose deadline has passed, or whose last round was
spent on a counter nobody could answer.

This package is that protocol in one module per job: ``vocabulary`` (its words),
``terms`` (what is on the table), ``facts`` (the stored ``NegotiationMoved``),
``book`` (the protocol) and ``tactics`` (Faratin et al.'s concession curves).
Callers import from the package; the names below are its public surface.
"""

from economy.negotiation.book import Hook, MoveRecord, Negotiation, NegotiationBook
from economy.negotiation.facts import NegotiationMoved, NegotiationRow
from economy.negotiation.tactics import (
    BUYER,
    ROLE_PARTY,
    SELLER,
    TACTIC_BETAS,
    TimeDependentTactic,
    concession,
    run_bilateral,
)
from economy.negotiation.terms import MAX_PRICE_CENTS, PRICINGS, Terms, format_cents
from economy.negotiation.vocabulary import (
    ANSWERS,
    MOVES,
    PARTIES,
    STATUSES,
    Answer,
    Move,
    NegotiationFault,
    NegotiationStatus,
    Party,
    other_party,
)

__all__ = [
    "ANSWERS",
    "BUYER",
    "MAX_PRICE_CENTS",
    "MOVES",
    "PARTIES",
    "PRICINGS",
    "ROLE_PARTY",
    "SELLER",
    "STATUSES",
    "TACTIC_BETAS",
    "Answer",
    "Hook",
    "Move",
    "MoveRecord",
    "Negotiation",
    "NegotiationBook",
    "NegotiationFault",
    "NegotiationMoved",
    "NegotiationRow",
    "NegotiationStatus",
    "Party",
    "Terms",
    "TimeDependentTactic",
    "concession",
    "format_cents",
    "other_party",
    "run_bilateral",
]
