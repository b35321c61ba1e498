"""Sponsor contracts: signing, spot verification against the as-run log, settlement.

A contract obliges N spots a day in given dayparts. A spot counts only when an
``ad`` segment that names the sponsor airs inside the contract's dayparts; the
sponsor pays after airing (per spot, or CPM × the audience measured at air
time), daily, for at most the spots due that day. Missed spots are owed as
make-goods the next day; make-goods missed again are written off. Talk that
breaks a sponsor's brand safety can cancel the contract. Naming a sponsor on
air without a contract is a fabricated sponsor and is logged as a fault.

A contract's life is logged as ``ContractEvent`` s of the ``ContractEventKind`` s; the
events that end it (``FINAL_EVENTS``) are named after the ``ContractStatus`` it ends in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import simpy
from sqlalchemy import Index

from economy.airplay import SPOKEN, Aired, SegmentKind, SegmentStatus
from economy.ledger import Ledger
from economy.negotiation import Negotiation, Terms
from sim.bus import EventBus
from sim.clock import SimClock
from sim.events import Event, Fault, fault_kinds, stored, table_of
from sim.rng import RngStreams
from sim.vocabulary import Vocabulary

DAY_S = 86_400.0

UNSAFE_WORDS: tuple[str, ...] = (  # regex alternatives, matched as whole words
    "election", "vote", "democrat", "republican", "minimum wage", "taxes", "government",
    "corporations", "guns?", "politics", "political", "damn", "hell", "crap", "disaster",
    "death", "killed", "shooting", "earthquake", "war",
)  # fmt: skip
_UNSAFE = re.compile(r"\b(?:" + "|".join(UNSAFE_WORDS) + r")\b", re.IGNORECASE)
_SPONSOR_CLAIM = re.compile(
    r"(?:sponsored by|brought to you by|presented by|thanks to our sponsors?|"
    r"a word from our sponsors?)[,:]?\s+((?:[A-Z0-9][\w'&.\-]*\s?){1,4})"
)


class ContractStatus(Vocabulary):
    """Where a contract stands (the reader's ``ContractRecord.status``)."""

    ACTIVE = "active"
    COMPLETED = "completed"  # ran its days
    CANCELLED = "cancelled"  # by the sponsor, over brand safety
    SCAM = "scam"  # the sponsor took the up-front fee and vanished


class ContractEventKind(Vocabulary):
    """What happened to a contract (``contract_events.kind``)."""

    SIGNED = "signed"
    SPOT = "spot"  # a verified spot
    SPOT_UNVERIFIED = "spot_unverified"  # the sponsor's ad, outside the contract's dayparts
    SETTLED = "settled"  # a contract day billed
    PAYMENT_LATE = "payment_late"
    PAID = "paid"
    UNPAID = "unpaid"
    MAKE_GOOD_OWED = "make_good_owed"
    MAKE_GOOD_MISSED = "make_good_missed"
    # the events that end a contract, each named after the status it ends in
    COMPLETED = ContractStatus.COMPLETED.value
    CANCELLED = ContractStatus.CANCELLED.value
    SCAM = ContractStatus.SCAM.value


FINAL_EVENTS: tuple[ContractEventKind, ...] = (
    ContractEventKind.COMPLETED,
    ContractEventKind.CANCELLED,
    ContractEventKind.SCAM,
)


@fault_kinds
class ContractFault(Vocabulary):
    """Fault kinds of deals gone wrong and sponsors named falsely."""

    CANNOT_PAY_FEE = "cannot_pay_fee"  # the station cannot pay the up-front fee: no deal
    SCAM = "scam"  # it paid the fee to a sponsor that vanished
    FABRICATED_SPONSOR = "fabricated_sponsor"  # a sponsor named on air without a contract
    SPONSOR_UNPAID = "sponsor_unpaid"  # a sponsor did not pay what aired


@dataclass(slots=True, frozen=True)
class SponsorProfile:
    """What a contract needs to know about its sponsor."""

    name: str
    account: str
    adversary: str = ""  # "" | advance_fee | shady_product | late_payer | non_payer
    reliability: float = 1.0  # chance an honest sponsor pays on the day
    brand_safety: float = 0.0  # chance unsafe talk makes it cancel


@dataclass(slots=True)
class Contract:
    id: str
    negotiation_id: str
    station: str
    sponsor: SponsorProfile
    terms: Terms
    signed_s: float
    end_s: float
    status: ContractStatus = ContractStatus.ACTIVE
    today: list[float] = field(default_factory=list)  # impressions of each verified spot today
    make_goods: int = 0
    spots_aired: int = 0
    paid_cents: int = 0

    def covers(self, daypart: str) -> bool:
        return not self.terms.dayparts or daypart in self.terms.dayparts

    def spots_due_today(self) -> int:
        return max(0, self.terms.spots_per_day + self.make_goods - len(self.today))


@stored(
    "contracts",
    "ContractRow",
    indexes=(Index("ix_contracts_run_station", "run_id", "station"),),
)
@dataclass(slots=True, frozen=True)
class ContractSigned(Event):
    """A contract was signed: its terms as agreed (dayparts stored comma-separated)."""

    station: str
    contract_id: str
    negotiation_id: str
    sponsor: str
    pricing: str
    price_cents: int
    spots_per_day: int
    days: int
    dayparts: str
    upfront_fee_cents: int
    ad_copy: str
    signed_s: float
    end_s: float

    time_column: ClassVar[str | None] = None

    @classmethod
    def of(cls, now: float, c: Contract) -> ContractSigned:
        t = c.terms
        return cls(
            now, c.station, c.id, c.negotiation_id, c.sponsor.name, t.pricing, t.price_cents,
            t.spots_per_day, t.days, ",".join(t.dayparts), t.upfront_fee_cents, t.copy,
            c.signed_s, c.end_s,
        )  # fmt: skip


@stored(
    "contract_events",
    "ContractEventRow",
    indexes=(Index("ix_contract_events_run_station", "run_id", "station"),),
)
@dataclass(slots=True, frozen=True)
class ContractEvent(Event):
    """Something happened to a contract: a spot aired, a payment, its end."""

    station: str
    contract_id: str
    kind: ContractEventKind
    amount_cents: int = 0
    detail: str = ""


ContractRow = table_of(ContractSigned)
ContractEventRow = table_of(ContractEvent)


class Contracts:
    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        ledger: Ledger,
        clock: SimClock,
        listeners_now: Callable[[str], int],
        sponsors: dict[str, SponsorProfile],
        streams: RngStreams,
    ) -> None:
        self.env = env
        self.bus = bus
        self.ledger = ledger
        self.clock = clock
        self.listeners_now = listeners_now
        self.sponsors = sponsors
        self._rng = streams.stream("contracts")
        self._seq = 0
        self.by_station: dict[str, list[Contract]] = {}
        self._owner: dict[str, str] = {}  # contract id -> station
        self._names = {name.lower(): name for name in sponsors}

    # -- queries ----------------------------------------------------------------------------
    def active(self, station: str) -> list[Contract]:
        return [c for c in self.by_station.get(station, ()) if c.status == ContractStatus.ACTIVE]

    def get(self, station: str, contract_id: str) -> Contract | None:
        for c in self.by_station.get(station, ()):
            if c.id == contract_id:
                return c
        return None

    def owner(self, contract_id: str) -> str | None:
        """The station that signed a contract, if it exists."""
        return self._owner.get(contract_id)

    def has_active(self, station: str, sponsor: str) -> bool:
        return any(c.sponsor.name == sponsor for c in self.active(station))

    # -- signing ----------------------------------------------------------------------------
    def sign(self, neg: Negotiation, now: float) -> Contract | None:
        """Turn an agreed negotiation into a contract; the station pays any up-front fee."""
        sponsor = self.sponsors[neg.sponsor]
        terms = neg.terms
        self._seq += 1
        contract = Contract(
            id=f"C{self._seq:04d}",
            negotiation_id=neg.id,
            station=neg.station,
            sponsor=sponsor,
            terms=terms,
            signed_s=now,
            end_s=now + terms.days * DAY_S,
        )
        if terms.upfront_fee_cents and not self.ledger.transfer(
            neg.station, sponsor.account, terms.upfront_fee_cents, "upfront_fee", contract.id
        ):
            detail = f"{contract.id}: {sponsor.name} deal void"
            self._fault(neg.station, ContractFault.CANNOT_PAY_FEE, detail)
            return None
        self.bus.publish(ContractSigned.of(now, contract))
        self.by_station.setdefault(neg.station, []).append(contract)
        self._owner[contract.id] = neg.station
        self._event(contract, ContractEventKind.SIGNED, detail=terms.describe())
        if sponsor.adversary == "advance_fee":
            contract.status = ContractStatus.SCAM
            fee = terms.upfront_fee_cents
            self._event(contract, ContractEventKind.SCAM, fee, "sponsor took the fee and left")
            self._fault(
                neg.station,
                ContractFault.SCAM,
                f"paid {terms.upfront_fee_cents}c up front to {sponsor.name}, who vanished",
            )
            return contract
        self.env.process(self._run(contract))
        return contract

    # -- the as-run log -----------------------------------------------------------------------
    def on_segment(self, seg: Aired) -> None:
        if seg.status != SegmentStatus.AIRED or seg.kind not in SPOKEN or not seg.text:
            return
        text = seg.text
        lowered = text.lower()
        named = [name for key, name in self._names.items() if key in lowered]
        if seg.kind == SegmentKind.AD:
            for name in named:
                self._verify(seg, name)
        else:
            self._check_brand_safety(seg.station, text)
        for name in named:
            if not self.has_active(seg.station, name):
                self._fault(
                    seg.station, ContractFault.FABRICATED_SPONSOR, f"{name} named in {seg.kind}"
                )
        for claim in _SPONSOR_CLAIM.findall(text):
            claim = claim.strip(" .,!")
            if claim and not any(claim.lower().startswith(n.lower()) for n in self.sponsors):
                self._fault(
                    seg.station, ContractFault.FABRICATED_SPONSOR, f"claimed sponsor {claim!r}"
                )

    def _verify(self, seg: Aired, sponsor: str) -> None:
        daypart = self.clock.daypart(seg.sim_time)
        for c in self.active(seg.station):
            if c.sponsor.name != sponsor:
                continue
            if not c.covers(daypart):
                self._event(
                    c, ContractEventKind.SPOT_UNVERIFIED, detail=f"seq {seg.seq} aired in {daypart}"
                )
                continue
            impressions = float(self.listeners_now(seg.station))
            c.today.append(impressions)
            c.spots_aired += 1
            self._event(
                c, ContractEventKind.SPOT, detail=f"seq {seg.seq}, {impressions:.0f} listening"
            )
            return

    def _check_brand_safety(self, station: str, text: str) -> None:
        hit = _UNSAFE.search(text)
        if not hit:
            return
        for c in self.active(station):
            if self._rng.random() < c.sponsor.brand_safety:
                self._settle(c)
                c.status = ContractStatus.CANCELLED
                self._event(
                    c, ContractEventKind.CANCELLED, detail=f"brand safety: said {hit.group(0)!r}"
                )

    # -- settlement ---------------------------------------------------------------------------
    def _run(self, c: Contract) -> Generator[simpy.Event, Any, None]:
        for _ in range(c.terms.days):
            yield self.env.timeout(DAY_S)
            if c.status != ContractStatus.ACTIVE:
                return
            self._settle(c)
        if c.make_goods:
            self._event(
                c, ContractEventKind.MAKE_GOOD_MISSED, detail=f"{c.make_goods} spot(s) never aired"
            )
        c.status = ContractStatus.COMPLETED
        self._event(c, ContractEventKind.COMPLETED, detail=f"{c.spots_aired} spots aired")

    def _settle(self, c: Contract) -> None:
        """Bill the sponsor for the verified spots due this contract day."""
        due = c.terms.spots_per_day + c.make_goods
        paid = c.today[:due]
        missed = due - len(paid)
        c.today = []
        if paid:
            if c.terms.pricing == "cpm":
                amount = round(sum(paid) * c.terms.price_cents / 1000)
            else:
                amount = len(paid) * c.terms.price_cents
            self._event(c, ContractEventKind.SETTLED, amount, f"{len(paid)} spot(s)")
            if amount > 0:
                self._collect(c, amount)
        if c.make_goods and missed > c.terms.spots_per_day:
            missed_again = missed - c.terms.spots_per_day
            self._event(c, ContractEventKind.MAKE_GOOD_MISSED, detail=f"{missed_again} spot(s)")
        c.make_goods = min(missed, c.terms.spots_per_day)
        if c.make_goods:
            self._event(c, ContractEventKind.MAKE_GOOD_OWED, detail=f"{c.make_goods} spot(s)")

    def _collect(self, c: Contract, amount: int) -> None:
        adversary = c.sponsor.adversary
        if adversary == "non_payer":
            self._unpaid(c, amount, "sponsor does not pay")
            return
        late = adversary == "late_payer" or self._rng.random() >= c.sponsor.reliability
        if late:
            delay = DAY_S * (2 if adversary == "late_payer" else 1)
            self._event(
                c, ContractEventKind.PAYMENT_LATE, amount, f"expected in {delay / 3600:.0f} h"
            )
            self.env.process(self._pay_later(c, amount, delay))
        else:
            self._pay(c, amount)

    def _pay_later(
        self, c: Contract, amount: int, delay: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay)
        self._pay(c, amount)

    def _pay(self, c: Contract, amount: int) -> None:
        if self.ledger.transfer(c.sponsor.account, c.station, amount, "sponsorship", c.id):
            c.paid_cents += amount
            self._event(c, ContractEventKind.PAID, amount)
        else:
            self._unpaid(c, amount, "sponsor budget exhausted")

    def _unpaid(self, c: Contract, amount: int, why: str) -> None:
        self._event(c, ContractEventKind.UNPAID, amount, why)
        detail = f"{c.id} {c.sponsor.name}: {amount}c, {why}"
        self._fault(c.station, ContractFault.SPONSOR_UNPAID, detail)

    def _event(
        self, c: Contract, kind: ContractEventKind, amount: int = 0, detail: str = ""
    ) -> None:
        self.bus.publish(ContractEvent(self.env.now, c.station, c.id, kind, amount, detail))

    def _fault(self, station: str, kind: ContractFault, detail: str) -> None:
        self.bus.publish(Fault(self.env.now, station, kind, detail))
