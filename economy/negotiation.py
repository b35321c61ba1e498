"""Sponsor deals: the alternating-offers protocol and time-dependent concession tactics.

The sponsor is the buyer of airtime (wants a low price), the station is the
seller (wants a high price). A negotiation opens with the sponsor's offer; the
parties then take turns to ``counter`` (a new price, other terms unchanged),
``accept`` (the terms the other party put on the table) or ``reject``. The
book expires a negotiation whose deadline has passed, or whose last round was
spent on a counter nobody could answer.

Invalid moves never raise: ``submit`` returns False and publishes a
``Fault(kind=NegotiationFault.INVALID_MOVE)``, so a model that misplays is logged,
not fatal. The protocol's words are vocabularies (``Party``, ``Move``,
``NegotiationStatus``), stored as their plain strings.

Tactics follow Faratin, Sierra & Jennings (1998), "Negotiation decision
functions for autonomous agents": the share of the way from the initial price
to the reservation price conceded by time ``t`` is
``k + (1 - k) * (t / T) ** (1 / beta)``; beta < 1 is Boulware (holds out until
near the deadline), beta > 1 is Conceder (gives ground early).

Pure domain logic: deterministic, no SimPy process; times are passed in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Final, Literal, get_args

from sqlalchemy import Index

from sim.bus import EventBus
from sim.events import Event, Fault, column, fault_kinds, stored, table_of
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


PRICINGS: Final = ("per_spot", "cpm")

# A price above this is a typo or a model hallucination, not a negotiating position.
MAX_PRICE_CENTS: Final = 10_000_000  # $100,000

TACTIC_BETAS: Final[dict[str, float]] = {"boulware": 0.2, "linear": 1.0, "conceder": 5.0}

BUYER: Final = "buyer"
SELLER: Final = "seller"
ROLE_PARTY: Final[dict[str, Party]] = {BUYER: Party.SPONSOR, SELLER: Party.STATION}


def _account(party: str, name: str | None) -> str:
    """How a party's faults are filed: a station under its call sign, a sponsor as its account."""
    if not name:
        return ""
    return f"sponsor:{name}" if party == Party.SPONSOR else name


def other_party(party: Party) -> Party:
    return Party.STATION if party == Party.SPONSOR else Party.SPONSOR


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True, slots=True)
class Terms:
    """A sponsorship proposal. ``price_cents`` is per spot, or per 1000 impressions for cpm."""

    price_cents: int
    pricing: str = "per_spot"
    spots_per_day: int = 2
    days: int = 7
    dayparts: tuple[str, ...] = ()  # empty: any daypart
    upfront_fee_cents: int = 0  # the station pays the sponsor this on signing (scams ask)
    copy: str = ""  # the ad script; names the sponsor

    def __post_init__(self) -> None:
        if not isinstance(self.dayparts, tuple):  # e.g. a list from JSON
            object.__setattr__(self, "dayparts", tuple(self.dayparts))
        if self.pricing not in PRICINGS:
            raise ValueError(f"pricing must be one of {PRICINGS}, got {self.pricing!r}")
        if _not_int(self.price_cents) or self.price_cents <= 0:
            raise ValueError(f"price_cents must be a positive int, got {self.price_cents!r}")
        if _not_int(self.spots_per_day) or self.spots_per_day <= 0:
            raise ValueError(f"spots_per_day must be a positive int, got {self.spots_per_day!r}")
        if _not_int(self.days) or self.days <= 0:
            raise ValueError(f"days must be a positive int, got {self.days!r}")
        if _not_int(self.upfront_fee_cents) or self.upfront_fee_cents < 0:
            raise ValueError(f"upfront_fee_cents must be >= 0, got {self.upfront_fee_cents!r}")

    def with_price(self, cents: int) -> Terms:
        return replace(self, price_cents=cents)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): equal terms give equal strings."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Terms:
        return cls(**json.loads(text))

    def describe(self) -> str:
        """One human line, e.g. "3 spots/day for 7 days, morning drive, $0.80 per spot"."""
        spots = f"{self.spots_per_day} spot{'s' if self.spots_per_day != 1 else ''}/day"
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        where = " or ".join(d.replace("_", " ") for d in self.dayparts) or "any daypart"
        unit = "per spot" if self.pricing == "per_spot" else "per 1000 impressions (CPM)"
        parts = [f"{spots} for {days}", where, f"{format_cents(self.price_cents)} {unit}"]
        if self.upfront_fee_cents:
            parts.append(f"{format_cents(self.upfront_fee_cents)} up front")
        return ", ".join(parts)


def _not_int(value: object) -> bool:
    return isinstance(value, bool) or not isinstance(value, int)


# --------------------------------------------------------------------------- events


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


# --------------------------------------------------------------------------- protocol


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
            if _not_int(price_cents):
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


# --------------------------------------------------------------------------- tactics


def concession(t: float, deadline: float, beta: float, k: float = 0.0) -> float:
    """Faratin et al.'s polynomial time-dependent function: 0 <= k <= result <= 1.

    ``t`` and ``deadline`` are measured from the opening; ``t`` is clamped to [0, deadline].
    """
    if deadline <= 0:
        raise ValueError(f"deadline must be positive, got {deadline}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if not 0.0 <= k <= 1.0:
        raise ValueError(f"k must be in [0, 1], got {k}")
    share = min(max(t, 0.0), deadline) / deadline
    return k + (1.0 - k) * share ** (1.0 / beta)


@dataclass(frozen=True, slots=True)
class TimeDependentTactic:
    """A buyer's price rises from initial to reservation, a seller's falls, shaped by ``beta``."""

    role: str  # "buyer" (the sponsor) or "seller" (the station)
    initial_cents: int
    reservation_cents: int  # the walk-away price: never accepted or offered beyond
    beta: float
    opened_s: float
    deadline_s: float
    k: float = 0.0  # share conceded at the opening

    def __post_init__(self) -> None:
        if self.role not in ROLE_PARTY:
            raise ValueError(f"role must be buyer or seller, got {self.role!r}")
        if self.initial_cents <= 0 or self.reservation_cents <= 0:
            raise ValueError("prices must be positive")
        if self.role == BUYER and self.initial_cents > self.reservation_cents:
            raise ValueError("a buyer starts at or below its reservation price")
        if self.role == SELLER and self.initial_cents < self.reservation_cents:
            raise ValueError("a seller starts at or above its reservation price")
        if self.deadline_s <= self.opened_s:
            raise ValueError("the deadline must be after the opening")

    @property
    def party(self) -> Party:
        return ROLE_PARTY[self.role]

    def price_at(self, now: float) -> int:
        """The price this tactic proposes at ``now``; rounded in its owner's favour."""
        share = concession(now - self.opened_s, self.deadline_s - self.opened_s, self.beta, self.k)
        exact = self.initial_cents + share * (self.reservation_cents - self.initial_cents)
        price = math.floor(exact) if self.role == BUYER else math.ceil(exact)
        # Float error must never take a price past the reservation.
        lo, hi = sorted((self.initial_cents, self.reservation_cents))
        return min(max(price, lo), hi)

    def acceptable(self, price: int) -> bool:
        """Within the reservation price."""
        if self.role == BUYER:
            return price <= self.reservation_cents
        return price >= self.reservation_cents

    def at_least_as_good(self, price: int, than: int) -> bool:
        return price <= than if self.role == BUYER else price >= than

    def decide(self, neg: Negotiation, now: float) -> tuple[Move, int | None]:
        """The move to play now: ``("accept"|"reject", None)`` or ``("counter", price)``.

        AC_next: accept when the proposal on the table is at least as good as what
        this tactic would propose now. In the last round (no counter allowed) accept
        anything within the reservation, else reject. At the deadline, reject when the
        tactic has nothing new to propose and the opponent has already turned its final
        price down at the deadline (before that, repeat it: the opponent, now at its own
        reservation, may take it).
        """
        if not neg.is_open or neg.turn != self.party:
            raise ValueError(f"{neg.id}: not {self.party}'s move")
        theirs = neg.terms.price_cents
        mine = self.price_at(now)
        if self.acceptable(theirs) and self.at_least_as_good(theirs, mine):
            return Move.ACCEPT, None
        if neg.round + 1 >= neg.max_rounds:
            return (Move.ACCEPT, None) if self.acceptable(theirs) else (Move.REJECT, None)
        if (
            now >= self.deadline_s
            and mine == neg.last_price(self.party)
            and neg.history[-1].sim_time_s >= self.deadline_s
        ):
            # My final price was already answered at the deadline: nothing left to try.
            return Move.REJECT, None
        return Move.COUNTER, mine


def run_bilateral(
    book: NegotiationBook,
    neg: Negotiation,
    buyer: TimeDependentTactic,
    seller: TimeDependentTactic,
    step_s: float,
    start_s: float | None = None,
) -> Negotiation:
    """Play two tactics against each other until ``neg`` closes; return it.

    Moves are ``step_s`` apart from ``start_s`` (default: the last move's time);
    the last step is shortened to land on the deadline, so both sides get to
    play their reservation prices. A start past the deadline expires ``neg``.
    """
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if buyer.role != BUYER or seller.role != SELLER:
        raise ValueError("run_bilateral needs a buyer and a seller")
    t = neg.history[-1].sim_time_s if start_s is None else start_s
    while neg.is_open:
        t = min(t + step_s, neg.deadline_s) if t < neg.deadline_s else t
        if t > neg.deadline_s:
            book.expire_due(t)
            break
        tactic = buyer if neg.turn == Party.SPONSOR else seller
        move, price = tactic.decide(neg, t)
        if not book.submit(neg.id, tactic.party, move, t, price) and neg.is_open:
            raise RuntimeError(f"{neg.id}: tactic played an invalid {move}")
    return neg
