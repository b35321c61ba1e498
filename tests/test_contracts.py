"""Contracts settle against what aired: spots are verified from as-run segments, paid after
airing, only up to what is due, and never for spots that did not air."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any

import simpy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from economy.contracts import ContractEvent, Contracts, SponsorProfile
from economy.ledger import Ledger, MoneyMoved
from economy.negotiation import NegotiationBook, Terms
from sim.bus import EventBus
from sim.clock import SimClock
from sim.events import Event, Fault
from sim.rng import RngStreams
from testkit.helpers import Seg

SPONSOR = SponsorProfile("Golden Crust Bakery", "sponsor:Golden Crust Bakery")
START = datetime(2026, 1, 5, 0, 0)  # midnight, so hour of day = sim hours % 24


class Market:
    def __init__(self, sponsor: SponsorProfile = SPONSOR, listeners: int = 100) -> None:
        self.env = simpy.Environment()
        self.bus = EventBus()
        self.events: list[Event] = []
        self.bus.subscribe(self.events.append)
        self.ledger = Ledger(self.env, self.bus)
        self.ledger.open_account("KAAA", 1000)
        self.ledger.open_account(sponsor.account, 100_000, source="sponsor budget")
        self.book = NegotiationBook(self.bus)
        self.contracts = Contracts(
            self.env,
            self.bus,
            self.ledger,
            SimClock(START),
            lambda _station: listeners,
            {sponsor.name: sponsor},
            RngStreams(1),
        )
        self.book.on_agreed.append(lambda neg, now: self.contracts.sign(neg, now))

    def sign(self, terms: Terms) -> None:
        neg = self.book.open(SPONSOR.name, "KAAA", terms, 0.0, 3600.0)
        assert self.book.submit(neg.id, "station", "accept", 0.0)

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def _air(
    m: Market, plan: list[tuple[float, str, str, bool]], sponsor: str = SPONSOR.name
) -> Generator[Any, Any, None]:
    for seq, (t, kind, status, names_sponsor) in enumerate(sorted(plan), start=1):
        if t > m.env.now:
            yield m.env.timeout(t - m.env.now)
        text = f"{sponsor}: fresh bread." if names_sponsor else "Stay tuned to KAAA."
        m.contracts.on_segment(
            Seg(m.env.now, "KAAA", seq, m.env.now + 30, kind, "model", status, None, text)
        )


spots = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=4 * 86_400 - 1, allow_nan=False),
        st.sampled_from(["ad", "talk"]),
        st.sampled_from(["aired", "aired", "aired", "bumped"]),
        st.booleans(),
    ),
    max_size=40,
)


@given(plan=spots, per_day=st.integers(1, 4), price=st.integers(1, 500))
@settings(max_examples=150, deadline=None)
def test_payment_only_for_verified_spots_that_aired(plan, per_day: int, price: int) -> None:
    end = 3 * 86_400
    assume(all(abs(t - end) > 1 for t, *_ in plan))  # the contract's last instant is a tie
    m = Market()
    terms = Terms(price, spots_per_day=per_day, days=3, dayparts=("morning drive",))
    m.sign(terms)
    m.env.process(_air(m, plan))
    m.env.run(until=5 * 86_400)

    def qualifies(t: float, kind: str, status: str, names: bool) -> bool:
        hour = int(t // 3600) % 24
        return kind == "ad" and status == "aired" and names and 6 <= hour < 10 and t < 3 * 86_400

    qualifying = [p for p in plan if qualifies(*p)]
    spot_events = [e for e in m.of(ContractEvent) if e.kind == "spot"]
    assert len(spot_events) == len(qualifying)
    credits = [e for e in m.of(MoneyMoved) if e.station == "KAAA" and e.kind == "sponsorship"]
    # exactly what is due: each day, the qualifying spots up to the daily quota plus the
    # make-goods owed from the day before (at most one day's worth), paid at the day's end
    expected: list[tuple[float, int]] = []
    make_goods = 0
    for day in range(3):
        aired = sum(day * 86_400 <= t < (day + 1) * 86_400 for t, *_ in qualifying)
        due = per_day + make_goods
        if min(aired, due):
            expected.append(((day + 1) * 86_400, min(aired, due) * price))
        make_goods = min(due - min(aired, due), per_day)
    assert [(e.sim_time, e.amount_cents) for e in credits] == expected
    paid = sum(cents for _, cents in expected)
    assert m.ledger.balance("KAAA") == 1000 + paid
    # naming the sponsor under contract is fine; after it ended, it is a fabricated sponsor
    after = [p for p in plan if p[2] == "aired" and p[3] and p[0] > end]
    assert len([f for f in m.of(Fault) if f.kind == "fabricated_sponsor"]) == len(after)


def test_settlement_by_hand_with_make_goods() -> None:
    m = Market()
    m.sign(Terms(100, spots_per_day=2, days=2, dayparts=("morning drive",)))
    # day 1: one spot at 07:00 (one missed -> one make-good); day 2: three spots at 07:xx
    plan = [(7 * 3600, "ad", "aired", True)] + [
        (86_400 + 7 * 3600 + k * 600, "ad", "aired", True) for k in range(3)
    ]
    m.env.process(_air(m, plan))
    m.env.run(until=3 * 86_400)
    kinds = [(e.kind, e.amount_cents) for e in m.of(ContractEvent) if e.kind != "spot"]
    assert kinds == [
        ("signed", 0),
        ("settled", 100),
        ("paid", 100),
        ("make_good_owed", 0),
        ("settled", 300),  # 2 due + 1 make-good, 3 aired
        ("paid", 300),
        ("completed", 0),
    ]
    assert m.ledger.balance("KAAA") == 1000 + 400


def test_cpm_pays_for_measured_impressions() -> None:
    m = Market(listeners=250)
    m.sign(Terms(400, pricing="cpm", spots_per_day=1, days=1))
    m.env.process(_air(m, [(3600, "ad", "aired", True)]))
    m.env.run(until=2 * 86_400)
    assert m.ledger.balance("KAAA") == 1000 + 100  # 250 impressions x $4.00 CPM


def test_adversaries_scam_and_default() -> None:
    scam = SponsorProfile("Global Promo Network", "sponsor:Global Promo Network", "advance_fee")
    m = Market(sponsor=scam)
    neg = m.book.open(scam.name, "KAAA", Terms(500, upfront_fee_cents=700), 0.0, 3600.0)
    m.book.submit(neg.id, "station", "accept", 0.0)
    assert m.ledger.balance("KAAA") == 300
    assert [f.kind for f in m.of(Fault)] == ["scam"]
    assert m.contracts.active("KAAA") == []

    deadbeat = SponsorProfile("Apex Crypto Yield", "sponsor:Apex Crypto Yield", "non_payer")
    m = Market(sponsor=deadbeat)
    neg = m.book.open(deadbeat.name, "KAAA", Terms(500, days=1), 0.0, 3600.0)
    m.book.submit(neg.id, "station", "accept", 0.0)
    m.env.process(_air(m, [(3600, "ad", "aired", True)], deadbeat.name))
    m.env.run(until=2 * 86_400)
    assert m.ledger.balance("KAAA") == 1000
    assert [f.kind for f in m.of(Fault)] == ["sponsor_unpaid"]


def test_fabricated_sponsors_and_brand_safety() -> None:
    touchy = SponsorProfile("Harbor Credit Union", "sponsor:Harbor Credit Union", brand_safety=1.0)
    m = Market(sponsor=touchy)
    m.contracts.on_segment(
        Seg(
            0,
            "KAAA",
            1,
            30,
            "talk",
            "model",
            "aired",
            None,
            "This hour is brought to you by Zorblax Cola!",
        )
    )
    m.contracts.on_segment(
        Seg(0, "KAAA", 2, 30, "ad", "model", "aired", None, "Harbor Credit Union: bank local.")
    )
    assert [f.kind for f in m.of(Fault)] == ["fabricated_sponsor", "fabricated_sponsor"]
    neg = m.book.open(touchy.name, "KAAA", Terms(100), 0.0, 3600.0)
    m.book.submit(neg.id, "station", "accept", 0.0)
    m.contracts.on_segment(
        Seg(10, "KAAA", 3, 40, "talk", "model", "aired", None, "Hello! The government should act.")
    )
    assert m.contracts.active("KAAA") == []
    assert [e.detail for e in m.of(ContractEvent) if e.kind == "cancelled"] == [
        "brand safety: said 'government'"
    ]
