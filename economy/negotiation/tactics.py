"""Time-dependent concession tactics after Faratin, Sierra & Jennings (1998), "Negotiation
decision functions for autonomous agents": the share of the way from the initial price to the
reservation price conceded by time ``t`` is ``k + (1 - k) * (t / T) ** (1 / beta)``; beta < 1
is Boulware (holds out until near the deadline), beta > 1 is Conceder (gives ground early).
A ``TimeDependentTactic`` decides a buyer's or a seller's move; ``run_bilateral`` plays two
against each other on a book. Deterministic; times are passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from economy.negotiation.book import Negotiation, NegotiationBook
from economy.negotiation.vocabulary import Move, Party

TACTIC_BETAS: Final[dict[str, float]] = {"boulware": 0.2, "linear": 1.0, "conceder": 5.0}

BUYER: Final = "buyer"
SELLER: Final = "seller"
ROLE_PARTY: Final[dict[str, Party]] = {BUYER: Party.SPONSOR, SELLER: Party.STATION}


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
