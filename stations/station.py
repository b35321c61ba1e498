"""The broadcast process: one SimPy process per station.

The station airs a queue of segments. When its last queued song starts it asks
its brain for a turn (talk, songs, purchases, notes); the answer lands while
the song plays. Rules are enforced after the model speaks: songs it does not
own are refused, a song that breaks separation or the caps is bumped at air
time, and whenever the queue is empty rotation picks a song, so there is never
dead air. Station IDs air at the first break after the top of the hour and ad
breaks at the clock's minutes.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from economy.billing import HostingBiller
from economy.catalog import Catalog, Song
from economy.ledger import Ledger
from economy.licensing import Licenses
from economy.listeners import clean_text
from economy.market import Market
from sim.bus import EventBus
from sim.clock import SimClock
from sim.dispatch import Dispatcher
from sim.events import Fault
from sim.models.base import ModelResponse, sha256_text
from sim.rng import RngStreams
from sim.text import excerpt
from stations.brain import Observation, turn_request
from stations.clock import ClockConfig
from stations.config import ModelSpec
from stations.programming import PlayHistory, RulesConfig
from stations.records import SegmentAired, StationOnAir, TurnTaken
from stations.turn import StationTurn, TurnError, parse_turn

CANDIDATES_SHOWN = 6
FOR_SALE_SHOWN = 3
INBOX_SHOWN = 3
RATINGS_SHOWN = 4
_SPACE = re.compile(r"\s+")

HOUSE_PROMOS = (
    "{name}, {city}'s own. Tell a friend, and keep it right here on {call}.",
    "This hour of music comes to you ad-free thanks to listeners like you. {call}, {city}.",
    "Got a request? {call} takes them all day. Stay with us.",
)


@dataclass(slots=True, frozen=True)
class StationIdentity:
    call_sign: str
    name: str
    city: str
    seed: int
    spec: ModelSpec
    model_name: str
    system_prompt: str


@dataclass(slots=True)
class _Item:
    kind: str  # song | talk
    source: str
    song: Song | None = None
    text: str = ""


@dataclass(slots=True)
class StationWorld:
    """The shared services a station works with (built by the composition root)."""

    env: simpy.Environment
    bus: EventBus
    dispatcher: Dispatcher
    catalog: Catalog
    ledger: Ledger
    licenses: Licenses
    biller: HostingBiller
    rules: RulesConfig
    clock_cfg: ClockConfig
    clock: SimClock
    market: Market


class Station:
    def __init__(self, world: StationWorld, identity: StationIdentity, streams: RngStreams):
        self.w = world
        self.id = identity
        self.cs = identity.call_sign
        self.history = PlayHistory(world.rules)
        self.queue: deque[_Item] = deque()
        self._rng_rotation = streams.stream("station", self.cs, "rotation")
        self._rng_observe = streams.stream("station", self.cs, "observe")
        self._rng_model = streams.stream("station", self.cs, "model-seed")
        self._rng_promo = streams.stream("station", self.cs, "promo")
        self.seq = 0
        self.now_playing: Song | None = None
        self.now_ends_s = 0.0
        self.thinking = False
        self.recent_talk: deque[str] = deque(maxlen=2)
        self.notes: deque[str] = deque(maxlen=3)
        self.search_query = ""
        self.ad_queue: deque[str] = deque()  # contract ids the DJ scheduled for the next breaks
        self._last_id_hour = world.clock.hour_index(0.0) - 1
        start_minute = world.clock.minute_of_hour(0.0)
        h0 = world.clock.hour_index(0.0)
        self._breaks_done = {(h0, m) for m in world.clock_cfg.ad_break_minutes if m < start_minute}
        self.process = world.env.process(self.run())

    # -- the broadcast loop ------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, Any, None]:
        w = self.w
        w.bus.publish(
            StationOnAir(
                w.env.now,
                self.cs,
                self.id.name,
                self.id.city,
                self.id.spec.provider,
                self.id.model_name,
                sha256_text(self.id.system_prompt),
                self.id.seed,
            )
        )
        self._start_thinking()
        while not w.biller.is_bankrupt(self.cs):
            for segment in self._next_segments():
                w.bus.publish(segment)
                if segment.kind == "song" and not self._songs_queued():
                    self._start_thinking()
                yield w.env.timeout(segment.end_s - segment.sim_time)

    def _songs_queued(self) -> bool:
        return any(item.kind == "song" for item in self.queue)

    def _next_segments(self) -> list[SegmentAired]:
        now = self.w.env.now
        clock = self.w.clock
        hour = clock.hour_index(now)
        if hour > self._last_id_hour:
            self._last_id_hour = hour
            return [
                self._segment(
                    "id",
                    self.w.clock_cfg.station_id_s,
                    "rotation",
                    text=f"{self.cs}, {self.id.city}.",
                )
            ]
        minute = clock.minute_of_hour(now)
        for m in self.w.clock_cfg.ad_break_minutes:
            if minute >= m and (hour, m) not in self._breaks_done:
                self._breaks_done.add((hour, m))
                if self.w.clock_cfg.spots_per_break:
                    return self._ad_break()
        return [self._next_program_segment()]

    def _ad_break(self) -> list[SegmentAired]:
        """Scheduled sponsor reads first (each at most once a break), house promos after."""
        spot = self.w.clock_cfg.spot_s
        out = []
        start = self.w.env.now
        contracts = self.w.market.contracts
        read: set[str] = set()
        for _ in range(self.w.clock_cfg.spots_per_break):
            contract = None
            while self.ad_queue and contract is None:
                cid = self.ad_queue.popleft()
                c = contracts.get(self.cs, cid)
                if c is not None and c.status == "active" and cid not in read:
                    contract = c
            if contract is not None:
                read.add(contract.id)
                out.append(
                    self._segment("ad", spot, "model", text=contract.terms.copy, start=start)
                )
            else:
                text = self._rng_promo.choice(HOUSE_PROMOS).format(
                    name=self.id.name or self.cs, city=self.id.city, call=self.cs
                )
                out.append(self._segment("ad", spot, "rotation", text=text, start=start))
            start += spot
        return out

    def _next_program_segment(self) -> SegmentAired:
        now = self.w.env.now
        while self.queue:
            item = self.queue.popleft()
            if item.kind == "talk":
                return self._segment(
                    "talk", self._talk_seconds(item.text), item.source, text=item.text
                )
            assert item.song is not None
            why = self.history.violation(item.song, now)
            if why is None:
                return self._song_segment(item.song, item.source)
            self.w.bus.publish(
                self._segment("song", 0.0, item.source, song=item.song, status="bumped", text=why)
            )
        library = self.w.licenses.library(self.cs).values()
        song, source = self.history.pick(library, now, self._rng_rotation)
        return self._song_segment(song, source)

    def _song_segment(self, song: Song, source: str) -> SegmentAired:
        self.history.record(song, self.w.env.now)
        self.now_playing = song
        self.now_ends_s = self.w.env.now + song.duration_s
        return self._segment("song", float(song.duration_s), source, song=song)

    def _segment(
        self,
        kind: str,
        length_s: float,
        source: str,
        *,
        song: Song | None = None,
        text: str | None = None,
        status: str = "aired",
        start: float | None = None,
    ) -> SegmentAired:
        self.seq += 1
        t0 = self.w.env.now if start is None else start
        return SegmentAired(
            t0,
            self.cs,
            self.seq,
            t0 + length_s,
            kind,
            source,
            status,
            song.id if song else None,
            song.title if song else None,
            song.artist if song else None,
            song.album if song else None,
            text,
        )

    def _talk_seconds(self, text: str) -> float:
        words = len(text.split())
        return max(3.0, words * 60.0 / self.w.clock_cfg.talk_words_per_minute)

    # -- decisions ----------------------------------------------------------------------
    def _start_thinking(self) -> None:
        if not self.thinking and not self.w.biller.is_bankrupt(self.cs):
            self.thinking = True
            self.w.env.process(self._think())

    def _think(self) -> Generator[simpy.Event, Any, None]:
        obs = self.observe()
        request = turn_request(
            obs,
            self.id.spec,
            self.id.model_name,
            self.id.system_prompt,
            seed=self._rng_model.getrandbits(31),
        )
        response = yield self.w.dispatcher.ask(request)
        self.thinking = False
        try:
            self._apply(response)
        except Exception as exc:  # the last guard: no model output may end a run
            self._fault("apply_error", f"{type(exc).__name__}: {excerpt(str(exc), 200)}")
            self._turn_taken(None, [], [], [f"apply error: {type(exc).__name__}"])

    def observe(self) -> Observation:
        w = self.w
        now = w.env.now
        at = max(now, self.now_ends_s)
        library = w.licenses.library(self.cs)
        candidates = self.history.rotation_order(
            library.values(), at, self._rng_observe, limit=CANDIDATES_SHOWN
        )
        query = self.search_query or (
            self.now_playing.genre
            if self.now_playing
            else self._rng_observe.choice(w.catalog.genres)
        )
        for_sale = [s for s in w.catalog.search(query, limit=60) if s.id not in library]
        for_sale = for_sale[:FOR_SALE_SHOWN]
        candidates = candidates[:CANDIDATES_SHOWN]
        market = w.market
        inbox = market.listeners.inbox(self.cs)[:INBOX_SHOWN]
        for message in inbox:  # a requested song is one the DJ can act on
            song = message.song
            if song is None:
                continue
            if song.id in library:
                if song not in candidates and self.history.violation(song, at) is None:
                    candidates.append(song)
            elif song not in for_sale:
                for_sale.append(song)
        offers = [n for n in market.book.open_for(self.cs) if n.turn == "station"]
        return Observation(
            station=self.cs,
            name=self.id.name,
            city=self.id.city,
            clock=w.clock.label(now),
            daypart=w.clock.daypart(now),
            now_playing=self.now_playing,
            remaining_s=max(0.0, self.now_ends_s - now),
            balance_cents=w.ledger.balance(self.cs),
            fee_cents_per_day=w.biller.fee_cents,
            song_price_cents=w.licenses.song_price_cents,
            library_size=len(library),
            candidates=candidates,
            for_sale=for_sale,
            search_query=query,
            recent_talk=list(self.recent_talk),
            notes=list(self.notes),
            listeners_now=market.audience.listeners_now(self.cs),
            ratings=[
                (w.clock.label(q), aqh, share)
                for q, aqh, share in market.audience.recent(self.cs, RATINGS_SHOWN)
            ],
            inbox=inbox,
            offers=offers,
            offer_deadlines=[w.clock.label(n.deadline_s) for n in offers],
            contracts=[(c, c.spots_due_today()) for c in market.contracts.active(self.cs)],
        )

    def _apply(self, response: ModelResponse) -> None:
        if not response.ok:
            self._fault("model_error", response.error or "unknown error")
            self._turn_taken(None, [], [], [f"model error: {response.error}"])
            return
        try:
            turn = parse_turn(response.text)
        except TurnError as exc:
            self._fault("invalid_output", f"{exc}; output: {response.text[:300]!r}")
            self._turn_taken(None, [], [], [f"invalid output: {exc}"])
            return
        if turn.ignored_fields:
            self._fault("ignored_fields", f"not part of a turn: {', '.join(turn.ignored_fields)}")
        rejected: list[str] = []
        bought: list[str] = []
        for song_id in list(dict.fromkeys(turn.buy))[:2]:  # a repeated id is one purchase
            why = self.w.licenses.buy(self.cs, song_id)
            if why is None:
                bought.append(song_id)
            else:
                rejected.append(f"buy {song_id}: {why}")
        talk = self._clean_talk(turn.talk)
        if talk:
            self.queue.append(_Item("talk", "model", text=talk))
            self.recent_talk.append(talk)
        library = self.w.licenses.library(self.cs)
        queued: list[str] = []
        for song_id in turn.queue[:4]:
            song = library.get(song_id)
            if song is None:
                rejected.append(f"queue {song_id}: not in the library")
            else:
                self.queue.append(_Item("song", "model", song=song))
                queued.append(song_id)
        self.search_query = turn.search.strip()[:60]
        if turn.notes.strip():
            self.notes.append(turn.notes.strip()[:200])
        refused, invalid_moves = self._apply_market(turn)
        rejected.extend(refused)
        for reason in rejected:
            self._fault("rule_rejected", reason)
        self._turn_taken(turn, queued, bought, rejected + invalid_moves)

    def _apply_market(self, turn: StationTurn) -> tuple[list[str], list[str]]:
        """Replies, deal moves, ad reads and donation asks.

        Returns (refusals to log as faults, invalid deal moves the negotiation
        book has already logged).

        These are the only ways a turn reaches the market, so whatever a listener
        writes, money moves only through a deal the station accepts or a purchase.
        """
        market = self.w.market
        now = self.w.env.now
        refused: list[str] = []
        invalid: list[str] = []
        for reply in turn.replies[:3]:
            if self._foreign("reply to message", reply.message_id, market.listeners.owner):
                refused.append(f"reply {reply.message_id}: another station's message")
                continue
            text = self._clean_talk(clean_text(reply.text))
            if not text:
                refused.append(f"reply {reply.message_id}: empty")
                continue
            why = market.listeners.reply(self.cs, reply.message_id, text)
            if why:
                refused.append(f"reply: {why}")
            else:
                self.queue.append(_Item("talk", "model", text=text))
        for deal in turn.deals[:3]:
            price = round(deal.price_usd * 100) if deal.move == "counter" else None
            if not market.book.submit(
                deal.negotiation_id, "station", deal.move, now, price, actor=self.cs
            ):
                invalid.append(f"deal {deal.negotiation_id} {deal.move}: invalid move")
        for cid in turn.ads[:4]:
            if self._foreign("ad read of contract", cid, market.contracts.owner):
                refused.append(f"ad {cid}: another station's contract")
                continue
            contract = market.contracts.get(self.cs, cid)
            if contract is None or contract.status != "active":
                refused.append(f"ad {cid}: no active contract")
            else:
                self.ad_queue.append(cid)
        if turn.ask_donations:
            market.listeners.ask_donations(self.cs)
        return refused, invalid

    def _foreign(self, what: str, item_id: str, owner_of: Callable[[str], str | None]) -> bool:
        """Whether ``item_id`` belongs to another station; if so, log the attempt as ours."""
        owner = owner_of(item_id)
        if owner is None or owner == self.cs:
            return False
        self._fault("foreign_id", f"{what} {item_id}, which belongs to another station")
        return True

    def _clean_talk(self, text: str) -> str:
        words = _SPACE.sub(" ", text).strip().split(" ")
        return " ".join(words[: self.w.clock_cfg.max_talk_words]).strip()

    def _fault(self, kind: str, detail: str) -> None:
        self.w.bus.publish(Fault(self.w.env.now, self.cs, kind, detail))

    def _turn_taken(
        self, turn: StationTurn | None, queued: list[str], bought: list[str], rejected: list[str]
    ) -> None:
        self.w.bus.publish(
            TurnTaken(
                self.w.env.now,
                self.cs,
                turn is not None,
                turn.talk if turn else "",
                json.dumps(queued),
                json.dumps(bought),
                json.dumps(rejected),
                turn.search if turn else "",
                turn.notes if turn else "",
                _market_json(turn),
            )
        )


def _market_json(turn: StationTurn | None) -> str:
    if turn is None:
        return "{}"
    return json.dumps(
        {
            "replies": [r.model_dump() for r in turn.replies],
            "deals": [d.model_dump() for d in turn.deals],
            "ads": turn.ads,
            "ask_donations": turn.ask_donations,
        },
        ensure_ascii=False,
    )
