"""The negotiation protocol's words: who moves (``Party``), what a move is (``Move``, and
the ``Answer`` s a party may play), where a negotiation stands (``NegotiationStatus``) and the
faults the book files for moves it refuses (``NegotiationFault``). Each is a vocabulary, stored
as its plain strings in the ``negotiations`` table and the fault log.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from sim.events import fault_kinds
from sim.vocabulary import Vocabulary


class Party(Vocabulary):
    """Who made a move (``negotiations.party``)."""

    SPONSOR = "sponsor"  # the buyer of airtime
    STATION = "station"  # the seller
    BOOK = "book"  # the party recorded on ``expire`` moves


PARTIES: Final = (Party.SPONSOR, Party.STATION)  # who may move


class Move(Vocabulary):
    """What a move was (``negotiations.move``)."""

    OFFER = "offer"  # the sponsor's opening (round 1)
    COUNTER = "counter"  # a new price, other terms unchanged
    ACCEPT = "accept"  # the terms the other party put on the table
    REJECT = "reject"
    EXPIRE = "expire"  # recorded by the book: the deadline or the round limit passed


MOVES: Final = tuple(Move)
# What a party may play on the table (the book records the offer and expire moves).
Answer = Literal[Move.ACCEPT, Move.COUNTER, Move.REJECT]
ANSWERS: Final[tuple[Move, ...]] = get_args(Answer)


class NegotiationStatus(Vocabulary):
    """Where a negotiation stands (``negotiations.status_after``)."""

    OPEN = "open"
    AGREED = "agreed"
    REJECTED = "rejected"
    EXPIRED = "expired"


STATUSES: Final = tuple(NegotiationStatus)


@fault_kinds
class NegotiationFault(Vocabulary):
    """Fault kinds of moves the book refuses."""

    INVALID_MOVE = "invalid_move"  # a move the protocol refuses (the detail says why)
    # an actor named an id that belongs to another station (or sponsor): a negotiation
    # here; the stations' sections log the same for any of the market's ids
    FOREIGN_ID = "foreign_id"


def other_party(party: Party) -> Party:
    return Party.STATION if party == Party.SPONSOR else Party.SPONSOR
