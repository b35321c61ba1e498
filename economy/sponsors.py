"""The sponsor market: agents with budgets, targets, rate cards and tactics.

Sponsors approach stations whose audience and sound fit them, open an
alternating-offers negotiation (``economy.negotiation``) and answer the
station's counters with a time-dependent tactic (Boulware, linear, conceder)
or, when configured, with a model's move through the same dispatcher the
stations use. Some are adversarial: advance-fee scams, shady products, late
payers and non-payers. An agreed deal becomes a contract (``economy.contracts``).
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import simpy
from pydantic import BaseModel, ConfigDict, Field

from economy.airplay import Aired, SegmentKind, SegmentStatus
from economy.catalog import Catalog
from economy.contracts import Contracts, SponsorProfile
from economy.ledger import Ledger
from economy.negotiation import (
    ANSWERS,
    TACTIC_BETAS,
    Move,
    Negotiation,
    NegotiationBook,
    NegotiationMoved,
    Party,
    Terms,
    TimeDependentTactic,
)
from sim.bus import EventBus
from sim.clock import DAYPART_NAMES
from sim.dispatch import Dispatcher
from sim.events import Event, Fault, fault_kinds, stored, table_of
from sim.models.base import ModelRequest, ModelResponse
from sim.models.spec import ModelSettings
from sim.rng import RngStreams
from sim.safejson import UnsafeJSON, finite_number, loads_bounded
from sim.store import RunRecord
from sim.text import excerpt
from sim.vocabulary import Vocabulary

ADVERSARIES: tuple[str, ...] = ("advance_fee", "shady_product", "late_payer", "non_payer")

# name, category, slogan
HONEST: tuple[tuple[str, str, str], ...] = (
    ("Golden Crust Bakery", "food", "fresh bread every morning on Elm Street"),
    ("Metro Auto Mall", "auto", "no-haggle prices on every car"),
    ("Harbor Credit Union", "finance", "banking that treats you like a neighbour"),
    ("Peak Fitness", "fitness", "your first month free"),
    ("Pine Street Books", "retail", "stories for every reader"),
    ("Nimbus Mobile", "telecom", "unlimited data, no contract"),
    ("Lumen Solar", "energy", "power your home with the sun"),
    ("QuickFix Plumbing", "home", "there in an hour, day or night"),
    ("Cedar Coffee Roasters", "food", "small-batch coffee, roasted daily"),
    ("Riverbend Realty", "real estate", "find the home that fits"),
    ("Bright Smile Dental", "health", "gentle care for the whole family"),
    ("Tandem Bikes", "retail", "ride more, worry less"),
)
SHADY: dict[str, tuple[str, str, str]] = {
    "advance_fee": ("Global Promo Network", "marketing", "premium national ad placement"),
    "shady_product": ("VitaMax Miracle Drops", "supplements", "cures fatigue, doctors hate it"),
    "late_payer": ("Sunrise Marketing Group", "marketing", "we grow local brands"),
    "non_payer": ("Apex Crypto Yield", "finance", "guaranteed 40% returns"),
}


class SponsorModel(ModelSettings):
    """A model that drives sponsors' moves (``[sponsors.model]``)."""

    provider: str = Field(
        "scripted", max_length=40, description="Any provider the scenario can use."
    )
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(96, ge=16, le=4096, description="Most tokens in one move.")


class SponsorConfig(BaseModel):
    """The sponsor market (``[sponsors]``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    count: int = Field(8, ge=0, le=1000, description="Sponsors in the market.")
    adversarial_share: float = Field(
        0.25, ge=0, le=1, description="Share of sponsors that are scams, shady or bad payers."
    )
    approach_every_hours: float = Field(
        6.0, ge=0.1, le=24 * 30, description="Mean time between one sponsor's approaches."
    )
    deadline_hours: float = Field(3.0, ge=0.01, le=24 * 7, description="Time to close a deal.")
    max_rounds: int = Field(6, ge=2, le=50, description="Moves before a negotiation expires.")
    reply_delay_minutes: float = Field(
        10.0, ge=0, le=24 * 60, description="Minutes a sponsor takes to answer a move."
    )
    model_driven: int = Field(
        0,
        ge=0,
        le=1000,
        description="How many sponsors answer through a model instead of a tactic (≤ count).",
    )
    model: SponsorModel = Field(default_factory=SponsorModel)


@dataclass(slots=True)
class Sponsor:
    name: str
    category: str
    slogan: str
    adversary: str
    tactic: str
    driver: str  # tactic | model
    pricing: str
    reservation_cents: int
    initial_cents: int
    budget_cents: int
    genres: tuple[str, ...]
    dayparts: tuple[str, ...]
    spots_per_day: int
    days: int
    upfront_fee_cents: int
    brand_safety: float
    reliability: float

    @property
    def account(self) -> str:
        return f"sponsor:{self.name}"

    def profile(self) -> SponsorProfile:
        return SponsorProfile(
            self.name, self.account, self.adversary, self.reliability, self.brand_safety
        )

    def opening_terms(self) -> Terms:
        return Terms(
            price_cents=self.initial_cents,
            pricing=self.pricing,
            spots_per_day=self.spots_per_day,
            days=self.days,
            dayparts=self.dayparts,
            upfront_fee_cents=self.upfront_fee_cents,
            copy=f"{self.name}: {self.slogan}.",
        )


@stored("sponsors", "SponsorRow", base=RunRecord)
@dataclass(slots=True, frozen=True)
class SponsorJoined(Event):
    """A sponsor entered the market (genres and dayparts stored comma-separated)."""

    name: str
    category: str
    adversary: str
    tactic: str
    driver: str
    pricing: str
    reservation_cents: int
    initial_cents: int
    budget_cents: int
    genres: str
    dayparts: str
    brand_safety: float
    reliability: float

    time_column: ClassVar[str | None] = None

    @classmethod
    def of(cls, now: float, s: Sponsor) -> SponsorJoined:
        return cls(
            now, s.name, s.category, s.adversary, s.tactic, s.driver, s.pricing,
            s.reservation_cents, s.initial_cents, s.budget_cents, ",".join(s.genres),
            ",".join(s.dayparts), s.brand_safety, s.reliability,
        )  # fmt: skip


SponsorRow = table_of(SponsorJoined)


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


class RatingsView(Protocol):
    def latest(self, station: str) -> tuple[int, float] | None: ...


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


def make_sponsors(
    cfg: SponsorConfig, catalog_genres: Sequence[str], streams: RngStreams
) -> list[Sponsor]:
    """The market's sponsors, drawn reproducibly from the run's streams."""
    rng = streams.stream("sponsors", "roster")
    n_bad = round(cfg.count * cfg.adversarial_share)
    bad = [ADVERSARIES[i % len(ADVERSARIES)] for i in range(n_bad)]
    out: list[Sponsor] = []
    honest = list(HONEST)
    rng.shuffle(honest)
    for i in range(cfg.count):
        adversary = bad[i] if i < n_bad else ""
        if adversary:
            base_name, category, slogan = SHADY[adversary]
            name = base_name if i < len(ADVERSARIES) else f"{base_name} {i // len(ADVERSARIES) + 1}"
        else:
            k = i - n_bad
            base_name, category, slogan = honest[k % len(honest)]
            name = base_name if k < len(honest) else f"{base_name} {k // len(honest) + 1}"
        pricing = "cpm" if rng.random() < 0.3 else "per_spot"
        if pricing == "cpm":
            reservation = rng.randrange(300, 1200, 25)  # $3-$12 per 1000 listeners
        else:
            reservation = rng.randrange(60, 300, 5)  # $0.60-$3.00 per spot
        initial = max(5, round(reservation * rng.uniform(0.35, 0.6)))
        fee = 0
        if adversary == "advance_fee":
            reservation *= 2  # too good to be true
            initial = round(reservation * 0.9)
            fee = rng.randrange(500, 1500, 100)
        tactic = rng.choice(tuple(TACTIC_BETAS))
        out.append(
            Sponsor(
                name=name,
                category=category,
                slogan=slogan,
                adversary=adversary,
                tactic=tactic,
                driver="model" if i >= cfg.count - cfg.model_driven else "tactic",
                pricing=pricing,
                reservation_cents=reservation,
                initial_cents=initial,
                budget_cents=rng.randrange(5_000, 30_000, 500),
                genres=tuple(rng.sample(list(catalog_genres), k=min(3, len(catalog_genres)))),
                dayparts=tuple(sorted(rng.sample(DAYPART_NAMES[1:], k=rng.randint(1, 3)))),
                spots_per_day=rng.randint(1, 3),
                days=rng.randint(2, 7),
                upfront_fee_cents=fee,
                brand_safety=round(rng.uniform(0.0, 0.6), 2),
                reliability=round(rng.uniform(0.85, 1.0), 2),
            )
        )
    return out


class SponsorDesk:
    """Runs the sponsors: approaches, replies to counters, and signs what is agreed."""

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        ledger: Ledger,
        book: NegotiationBook,
        contracts: Contracts,
        ratings: RatingsView,
        catalog: Catalog,
        cfg: SponsorConfig,
        sponsors: list[Sponsor],
        stations: Sequence[str],
        dispatcher: Dispatcher,
        streams: RngStreams,
        on_air: Callable[[str], bool] | None = None,
    ) -> None:
        self.env = env
        self.bus = bus
        self.book = book
        self.contracts = contracts
        self.ratings = ratings
        self.catalog = catalog
        self.cfg = cfg
        self.stations = list(stations)
        self.dispatcher = dispatcher
        self.ledger = ledger
        self.on_air = on_air  # None: every station is on air
        self.sponsors = {s.name: s for s in sponsors}
        self._tactics: dict[str, TimeDependentTactic] = {}
        self._rng = streams.stream("sponsors", "market")
        self._recent: dict[str, deque[str]] = {s: deque(maxlen=40) for s in self.stations}
        for sponsor in sponsors:
            ledger.open_account(sponsor.account, sponsor.budget_cents, source="sponsor budget")
            bus.publish(SponsorJoined.of(env.now, sponsor))
            env.process(self._approach(sponsor, streams))
        book.on_agreed.append(self._agreed)
        bus.subscribe(self._on_move, NegotiationMoved)
        env.process(self._expiry())

    def on_segment(self, seg: Aired) -> None:
        if seg.kind == SegmentKind.SONG and seg.status == SegmentStatus.AIRED and seg.song_id:
            song = self.catalog.get(seg.song_id)
            if song is not None:
                self._recent[seg.station].append(song.genre)

    # -- approaching stations -------------------------------------------------------------
    def _approach(self, sponsor: Sponsor, streams: RngStreams) -> Generator[simpy.Event, Any, None]:
        rng = streams.stream("sponsors", "approach", sponsor.name)
        mean_s = self.cfg.approach_every_hours * 3600.0
        while True:
            yield self.env.timeout(rng.expovariate(1.0 / mean_s))
            station = self._pick_station(sponsor, rng)
            if station is None:
                continue
            opened = self.env.now
            deadline = opened + self.cfg.deadline_hours * 3600.0
            neg = self.book.open(
                sponsor.name, station, sponsor.opening_terms(), opened, deadline,
                max_rounds=self.cfg.max_rounds,
            )  # fmt: skip
            self._tactics[neg.id] = TimeDependentTactic(
                "buyer",
                sponsor.initial_cents,
                sponsor.reservation_cents,
                TACTIC_BETAS[sponsor.tactic],
                opened,
                deadline,
            )

    def _pick_station(self, sponsor: Sponsor, rng: random.Random) -> str | None:
        busy = {n.station for n in self.book.all() if n.sponsor == sponsor.name and n.is_open}
        candidates = [
            s
            for s in self.stations
            if s not in busy
            and not self.contracts.has_active(s, sponsor.name)
            and (self.on_air is None or self.on_air(s))
        ]
        if not candidates:
            return None
        weights = []
        for s in candidates:
            latest = self.ratings.latest(s)
            aqh = latest[0] if latest else 0
            recent = self._recent[s]
            fit = sum(Counter(recent)[g] for g in sponsor.genres) / len(recent) if recent else 0.3
            weights.append((1.0 + aqh) * (0.2 + fit))
        return rng.choices(candidates, weights=weights)[0]

    # -- answering the station -------------------------------------------------------------
    def _on_move(self, event: NegotiationMoved) -> None:
        if event.party != Party.STATION or event.move != Move.COUNTER:
            return
        neg = self.book.get(event.negotiation_id)
        if neg is None or neg.sponsor not in self.sponsors:
            return
        self.env.process(self._reply(neg))

    def _reply(self, neg: Negotiation) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.cfg.reply_delay_minutes * 60.0)
        if not neg.is_open or neg.turn != Party.SPONSOR:
            return
        sponsor = self.sponsors[neg.sponsor]
        tactic = self._tactics[neg.id]
        if sponsor.driver == "model":
            request = self._model_request(sponsor, neg, tactic)
            response = yield self.dispatcher.ask(request)
            if not neg.is_open or neg.turn != Party.SPONSOR:
                return
            if self._model_move(sponsor, neg, response):
                return
            # the model's answer was unusable or refused (and logged): its tactic answers
        move, price = tactic.decide(neg, self.env.now)
        self.book.submit(neg.id, Party.SPONSOR, move, self.env.now, price)

    def _model_move(self, sponsor: Sponsor, neg: Negotiation, response: ModelResponse) -> bool:
        """Play the model's move if it is usable and within the sponsor's means; log why not.

        A model-driven sponsor moves only its own negotiation (the book checks the
        actor), never above its reservation price, and never into a deal its
        budget cannot cover.
        """
        now = self.env.now
        parsed = parse_move(response.text) if response.ok else None
        if parsed is None:
            detail = response.error or f"unusable sponsor move: {excerpt(response.text, 200)}"
            self.bus.publish(
                Fault(now, sponsor.account, SponsorFault.SPONSOR_INVALID_OUTPUT, detail)
            )
            return False
        move, price = parsed
        price_on_deal = price if move == Move.COUNTER else neg.terms.price_cents
        if move != Move.REJECT:
            assert price_on_deal is not None
            why = self._beyond_means(sponsor, neg, price_on_deal)
            if why:
                self.bus.publish(
                    Fault(now, sponsor.account, SponsorFault.SPONSOR_OUT_OF_BOUNDS, why)
                )
                return False
        return self.book.submit(neg.id, Party.SPONSOR, move, now, price, actor=sponsor.name)

    def _beyond_means(self, sponsor: Sponsor, neg: Negotiation, price_cents: int) -> str:
        """Why ``price_cents`` is more than ``sponsor`` may commit to on ``neg`` ("" if fine)."""
        if price_cents > sponsor.reservation_cents:
            return (
                f"{neg.id}: {price_cents}c is above the reservation price "
                f"{sponsor.reservation_cents}c"
            )
        terms = neg.terms
        spots = terms.spots_per_day * terms.days
        if terms.pricing == "cpm":
            latest = self.ratings.latest(neg.station)
            impressions = max(1, latest[0] if latest else 1)
            cost = math.ceil(price_cents * spots * impressions / 1000)
        else:
            cost = price_cents * spots
        budget = self.ledger.balance(sponsor.account)
        if cost > budget:
            return (
                f"{neg.id}: the deal would cost about {cost}c, more than the {budget}c budget left"
            )
        return ""

    def _model_request(
        self, sponsor: Sponsor, neg: Negotiation, tactic: TimeDependentTactic
    ) -> ModelRequest:
        spec = self.cfg.model
        span = max(1.0, neg.deadline_s - neg.opened_s)
        view = SponsorView(
            sponsor=sponsor.name,
            category=sponsor.category,
            negotiation_id=neg.id,
            terms=neg.terms,
            station_price_cents=neg.terms.price_cents,
            reservation_cents=sponsor.reservation_cents,
            tactic_price_cents=tactic.price_at(self.env.now),
            elapsed=min(1.0, (self.env.now - neg.opened_s) / span),
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
                "seed": self._rng.getrandbits(31),
            },
            context=view,
            tool_name=SPONSOR_TOOL,
        )

    def _agreed(self, neg: Negotiation, now: float) -> None:
        if neg.sponsor in self.sponsors:
            self.contracts.sign(neg, now)

    def _expiry(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(300.0)
            self.book.expire_due(self.env.now)


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
