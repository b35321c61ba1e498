"""The alternating-offers protocol: the ``NegotiationBook`` opens every negotiation of a run
with the sponsor's offer, validates and applies the parties' moves (counter, accept, reject),
expires negotiations past their deadline or round limit, and publishes each move as a
``NegotiationMoved``. Invalid moves never raise: ``submit`` returns False and publishes a
``Fault`` of a ``NegotiationFault`` kind. Pure domain logic: no SimPy process; times are
passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from economy.negotiation.facts import NegotiationMoved
from economy.negotiation.terms import MAX_PRICE_CENTS, Terms, not_int
from economy.negotiation.vocabulary import (
    MOVES,
    PARTIES,
    Move,
    NegotiationFault,
    NegotiationStatus,
    Party,
    other_party,
)
from sim.bus import EventBus
from sim.events import Fault


def _account(party: str, name: str | None) -> str:
    """How a party's faults are filed: a station under its call sign, a sponsor as its account."""
    if not name:
        return ""
    return f"sponsor:{name}" if party == Party.SPONSOR else name


@dataclass(frozen=True, slots=True)
class MoveRecord:
    """A move in a negotiation's history (``party`` is ``Party.BOOK`` for ``expire``)."""

    round: int
    party: Party
    move: Move
    sim_time_s: float
    terms: Terms  # on the table after the move
    status_after: NegotiationStatus


@dataclass(slots=True)
class Negotiation:
    id: str
    sponsor: str
    station: str
    opened_s: float
    deadline_s: float  # inclusive: moves at exactly the deadline still count
    max_rounds: int  # party moves, the opening offer included; the last must accept or reject
    terms: Terms  # the proposal on the table
    proposed_by: Party  # the party who put ``terms`` on the table
    history: list[MoveRecord] = field(default_factory=list)
    status: NegotiationStatus = NegotiationStatus.OPEN
    turn: Party | None = Party.STATION  # whose move it is; None once closed
    closed_s: float | None = None

    @property
    def round(self) -> int:
        """Moves so far (the opening offer is round 1)."""
        return len(self.history)

    @property
    def is_open(self) -> bool:
        return self.status == NegotiationStatus.OPEN

    def last_price(self, party: Party) -> int | None:
        """The price ``party`` last proposed (offer or counter), if any."""
        for m in reversed(self.history):
            if m.party == party and m.move in (Move.OFFER, Move.COUNTER):
                return m.terms.price_cents
        return None


Hook = Callable[[Negotiation, float], None]


class NegotiationBook:
    """Every negotiation of a run: validates and applies moves, publishes them on the bus."""

    def __init__(self, bus: EventBus, max_price_cents: int = MAX_PRICE_CENTS) -> None:
        self.bus = bus
        self.max_price_cents = max_price_cents
        self._by_id: dict[str, Negotiation] = {}
        # Called after the closing move is published: a contracts module signs on agreement.
        self.on_agreed: list[Hook] = []
        self.on_closed: list[Hook] = []  # rejected or expired (not agreed)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, negotiation_id: str) -> Negotiation | None:
        return self._by_id.get(negotiation_id)

    def all(self) -> list[Negotiation]:
        return list(self._by_id.values())

    def open_for(self, station: str) -> list[Negotiation]:
        """The station's open negotiations, oldest first."""
        return [n for n in self._by_id.values() if n.station == station and n.is_open]

    def open(
        self,
        sponsor: str,
        station: str,
        terms: Terms,
        now: float,
        deadline_s: float,
        max_rounds: int = 6,
    ) -> Negotiation:
        """Open with the sponsor's offer (round 1); the station moves next.

        Raises ValueError on a bad setup: this is the sponsor module's code, not a party's move.
        """
        if not sponsor or not station:
            raise ValueError("sponsor and station must be named")
        if deadline_s <= now:
            raise ValueError(f"deadline {deadline_s} must be after the opening at {now}")
        if max_rounds < 2:
            raise ValueError(f"max_rounds must be >= 2 (offer and answer), got {max_rounds}")
        if terms.price_cents > self.max_price_cents:
            raise ValueError(f"opening price {terms.price_cents}c is above the cap")
        neg = Negotiation(
            id=f"N{len(self._by_id) + 1:04d}",
            sponsor=sponsor,
            station=station,
            opened_s=now,
            deadline_s=deadline_s,
            max_rounds=max_rounds,
            terms=terms,
            proposed_by=Party.SPONSOR,
        )
        self._by_id[neg.id] = neg
        self._record(neg, Party.SPONSOR, Move.OFFER, now)
        return neg

    def submit(
        self,
        negotiation_id: str,
        party: str,
        move: str,
        now: float,
        price_cents: int | None = None,
        *,
        actor: str | None = None,
    ) -> bool:
        """Apply ``party``'s move; False (and an ``invalid_move`` Fault) when it is not valid.

        ``actor`` is who is moving: a station's call sign, or a sponsor's name. A
        model's move must name it, and it must be the negotiation's own station
        (or sponsor) for that party; anything else is refused before the
        negotiation is touched and logged as the actor's ``foreign_id`` fault.
        ``None`` is the market's own code (a tactic), which knows its negotiation.

        An invalid move leaves the negotiation as it was, except that a move after
        the deadline, or a counter in the last round, expires it.
        """
        neg = self._by_id.get(negotiation_id)
        if party not in PARTIES:
            return self._invalid(now, actor or "", f"unknown party {party!r} (sponsor or station)")
        if neg is None:
            return self._invalid(now, _account(party, actor), f"no negotiation {negotiation_id!r}")
        owner = neg.station if party == Party.STATION else neg.sponsor
        if actor is not None and actor != owner:
            self.bus.publish(
                Fault(
                    now,
                    _account(party, actor),
                    NegotiationFault.FOREIGN_ID,
                    f"{move} on negotiation {neg.id}, which belongs to another {party}",
                )
            )
            return False
        where = f"{neg.id} ({neg.sponsor} / {neg.station})"
        mover = _account(party, owner)
        if not neg.is_open:
            return self._invalid(now, mover, f"{where} is already {neg.status}")
        if move not in MOVES:
            return self._invalid(
                now, mover, f"{where}: unknown move {move!r} (counter, accept or reject)"
            )
        if now > neg.deadline_s:
            self._invalid(
                now,
                mover,
                f"{where}: {move} by {party} at {now:g}s is past the deadline "
                f"{neg.deadline_s:g}s; the negotiation expires",
            )
            self._expire(neg, now)
            return False
        if party != neg.turn:
            return self._invalid(now, mover, f"{where}: not {party}'s turn ({neg.turn}'s)")
        if move == Move.OFFER:
            return self._invalid(
                now, mover, f"{where}: offer is only the opening move; counter instead"
            )
        if move == Move.EXPIRE:
            return self._invalid(now, mover, f"{where}: expire is recorded by the book, not played")
        table = neg.terms.price_cents
        if move == Move.COUNTER:
            if price_cents is None:
                return self._invalid(now, mover, f"{where}: counter needs a price")
            if not_int(price_cents):
                return self._invalid(
                    now, mover, f"{where}: price {price_cents!r} is not whole cents"
                )
            if price_cents <= 0:
                return self._invalid(now, mover, f"{where}: price {price_cents}c must be positive")
            if price_cents > self.max_price_cents:
                return self._invalid(
                    now,
                    mover,
                    f"{where}: price {price_cents}c is absurd (cap {self.max_price_cents}c)",
                )
            if price_cents == table:
                return self._invalid(
                    now,
                    mover,
                    f"{where}: counter at {price_cents}c, the price already on the table; "
                    "accept instead",
                )
            if neg.round + 1 >= neg.max_rounds:
                self._invalid(
                    now,
                    mover,
                    f"{where}: round limit: round {neg.round + 1} of {neg.max_rounds} "
                    "must accept or reject; the negotiation expires",
                )
                self._expire(neg, now)
                return False
        elif price_cents is not None and price_cents != table:
            return self._invalid(
                now,
                mover,
                f"{where}: {move} takes the {table}c on the table, not {price_cents!r}; "
                "to change the price, counter",
            )

        played, by = Move(move), Party(party)
        if played == Move.COUNTER:
            assert price_cents is not None
            neg.terms = neg.terms.with_price(price_cents)
            neg.proposed_by = by
            neg.turn = other_party(by)
            self._record(neg, by, Move.COUNTER, now)
        else:
            agreed = played == Move.ACCEPT
            status = NegotiationStatus.AGREED if agreed else NegotiationStatus.REJECTED
            self._close(neg, by, played, status, now)
        return True

    def expire_due(self, now: float) -> list[Negotiation]:
        """Expire every open negotiation whose deadline is strictly before ``now``."""
        due = [n for n in self._by_id.values() if n.is_open and now > n.deadline_s]
        for neg in due:
            self._expire(neg, now)
        return due

    # -- internals

    def _invalid(self, now: float, station: str, detail: str) -> bool:
        self.bus.publish(Fault(now, station, NegotiationFault.INVALID_MOVE, detail))
        return False

    def _expire(self, neg: Negotiation, now: float) -> None:
        self._close(neg, Party.BOOK, Move.EXPIRE, NegotiationStatus.EXPIRED, now)

    def _close(
        self, neg: Negotiation, party: Party, move: Move, status: NegotiationStatus, now: float
    ) -> None:
        neg.status = status
        neg.turn = None
        neg.closed_s = now
        self._record(neg, party, move, now)
        for hook in self.on_agreed if status == NegotiationStatus.AGREED else self.on_closed:
            hook(neg, now)

    def _record(self, neg: Negotiation, party: Party, move: Move, now: float) -> None:
        m = MoveRecord(neg.round + 1, party, move, now, neg.terms, neg.status)
        neg.history.append(m)
        self.bus.publish(
            NegotiationMoved(
                now,
                neg.station,
                neg.id,
                neg.sponsor,
                m.round,
                party,
                move,
                neg.terms.to_json(),
                neg.status,
            )
        )
