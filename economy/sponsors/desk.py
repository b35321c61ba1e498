"""The sponsor market as a process: the ``SponsorDesk`` opens each sponsor's account, sends
it to approach stations whose audience and sound fit it, answers the stations' counters with
its time-dependent tactic or, when configured, its model's move (through the dispatcher the
stations use), expires overdue negotiations and signs what is agreed as a contract.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

import simpy

from economy.airplay import Aired, SegmentKind, SegmentStatus
from economy.catalog import Catalog
from economy.contracts import Contracts
from economy.ledger import Ledger
from economy.negotiation import (
    TACTIC_BETAS,
    Move,
    Negotiation,
    NegotiationBook,
    NegotiationMoved,
    Party,
    TimeDependentTactic,
)
from economy.sponsors.config import SponsorConfig
from economy.sponsors.model import SponsorFault, parse_move, sponsor_request
from economy.sponsors.roster import Sponsor, SponsorJoined
from sim.bus import EventBus
from sim.dispatch import Dispatcher
from sim.events import Fault
from sim.models.base import ModelRequest, ModelResponse
from sim.rng import RngStreams
from sim.text import excerpt


class RatingsView(Protocol):
    def latest(self, station: str) -> tuple[int, float] | None: ...


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
        seed = self._rng.getrandbits(31)
        return sponsor_request(self.cfg.model, sponsor, neg, tactic, self.env.now, seed)

    def _agreed(self, neg: Negotiation, now: float) -> None:
        if neg.sponsor in self.sponsors:
            self.contracts.sign(neg, now)

    def _expiry(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(300.0)
            self.book.expire_due(self.env.now)
