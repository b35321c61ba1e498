"""The broadcast process: one SimPy process per station.

The station airs a queue of segments. When its last queued song starts it asks
its brain for a turn (talk, songs, purchases, notes, and whatever its market
sections take); the answer lands while the song plays. Rules are enforced
after the model speaks: songs it does not own are refused, a song that breaks
separation or the caps is bumped at air time, and whenever the queue is empty
rotation picks a song, so there is never dead air. Station IDs air at the
first break after the top of the hour and ad breaks at the clock's minutes.

The station knows the market only through its sections (``stations.sections``):
each shows its part of the observation, adds its fields to the turn and
handles them, fills ad breaks, or asks for a turn of its own. Which sections,
tools and memory a station has is its harness.

Nothing a model says ends a run: what goes wrong is published as a ``Fault``
of one of the ``StationFault`` kinds, and automation carries on.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import simpy

from economy.airplay import SegmentKind, SegmentSource, SegmentStatus
from economy.billing import HostingBiller
from economy.catalog import Catalog, Song
from economy.ledger import Ledger
from economy.licensing import Licenses
from economy.market import Market
from sim.bus import EventBus
from sim.clock import SimClock
from sim.dispatch import Dispatcher
from sim.events import Fault, fault_kinds
from sim.models.base import ModelRequest, ModelResponse, sha256_text
from sim.rng import RngStreams
from sim.safejson import UnsafeJSON, loads_bounded
from sim.text import excerpt
from sim.vocabulary import Vocabulary
from stations.brain import (
    Observation,
    Voice,
    dedicated_request,
    talk_request,
    turn_request,
    whole_sentences,
)
from stations.clock import ClockConfig
from stations.config import ModelSpec
from stations.harness import HarnessConfig, Memory, Tool, TurnShape
from stations.programming import PlayHistory, RulesConfig
from stations.records import SegmentAired, StationOnAir, TurnTaken
from stations.sections import Applied, DedicatedTurn, Section, SectionWorld, registered
from stations.turn import CoreTurn, TurnError, parse_turn

CANDIDATES_SHOWN = 6
FOR_SALE_SHOWN = 3
RATINGS_SHOWN = 4
_SPACE = re.compile(r"\s+")

HOUSE_PROMOS = (
    "{name}, {city}'s own. Tell a friend, and keep it right here on {call}.",
    "This hour of music comes to you ad-free thanks to listeners like you. {call}, {city}.",
    "Got a request? {call} takes them all day. Stay with us.",
)


@fault_kinds
class StationFault(Vocabulary):
    """What the station logs when its model's answer cannot be used as it is."""

    MODEL_ERROR = "model_error"  # the call failed (the provider's error is the detail)
    INVALID_OUTPUT = "invalid_output"  # an answer that is not a turn (or no words)
    TURN_REFUSED = "turn_refused"  # a section refused the turn as a whole
    IGNORED_FIELDS = "ignored_fields"  # fields that are not part of a turn
    RULE_REJECTED = "rule_rejected"  # a move the rules refuse (a song it does not own)
    APPLY_ERROR = "apply_error"  # applying the answer raised: the last guard caught it
    TRANSCRIPT_DROPPED = "transcript_dropped"  # chat history past its budget


@dataclass(slots=True, frozen=True)
class StationIdentity:
    call_sign: str
    name: str
    city: str
    seed: int
    spec: ModelSpec
    model_name: str
    system_prompt: str
    harness: HarnessConfig = field(default_factory=HarnessConfig)


@dataclass(slots=True)
class _Item:
    kind: SegmentKind  # song | talk
    source: SegmentSource
    song: Song | None = None
    text: str = ""
    ref: str | None = None  # what the talk answers (a call or a letter)


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
        self.harness = identity.harness
        self.voice = Voice(self.cs, identity.spec, identity.model_name, identity.system_prompt)
        self.shape = self.harness.shape_for(identity.spec.provider)
        self.transcript: deque[dict[str, str]] = deque()  # past turns, as chat messages
        section_world = SectionWorld(
            station=self.cs,
            env=world.env,
            bus=world.bus,
            clock=world.clock,
            market=world.market,
            harness=self.harness,
            library=lambda: world.licenses.library(self.cs),
            clean_talk=self._clean_talk,
        )
        self.sections: list[Section] = [
            cls(section_world) for cls in registered() if self.harness.has(cls.tool)
        ]
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
                self.harness.model_dump_json(),
            )
        )
        self._start_thinking()
        while not w.biller.is_bankrupt(self.cs):
            for segment in self._next_segments():
                w.bus.publish(segment)
                if segment.kind == SegmentKind.SONG and not self._songs_queued():
                    self._start_thinking()
                self._take_dedicated_turns()
                yield w.env.timeout(segment.end_s - segment.sim_time)

    def _songs_queued(self) -> bool:
        return any(item.kind == SegmentKind.SONG for item in self.queue)

    def _next_segments(self) -> list[SegmentAired]:
        now = self.w.env.now
        clock = self.w.clock
        hour = clock.hour_index(now)
        if hour > self._last_id_hour:
            self._last_id_hour = hour
            return [
                self._segment(
                    SegmentKind.ID,
                    self.w.clock_cfg.station_id_s,
                    SegmentSource.ROTATION,
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
        """Spots the sections scheduled first (paid reads), house promos in the other slots."""
        spot = self.w.clock_cfg.spot_s
        slots = self.w.clock_cfg.spots_per_break
        reads: list[str] = []
        for section in self.sections:
            reads.extend(section.break_spots(slots - len(reads)))
        out = []
        start = self.w.env.now
        for i in range(slots):
            if i < len(reads):
                out.append(
                    self._segment(
                        SegmentKind.AD, spot, SegmentSource.MODEL, text=reads[i], start=start
                    )
                )
            else:
                text = self._rng_promo.choice(HOUSE_PROMOS).format(
                    name=self.id.name or self.cs, city=self.id.city, call=self.cs
                )
                out.append(
                    self._segment(
                        SegmentKind.AD, spot, SegmentSource.ROTATION, text=text, start=start
                    )
                )
            start += spot
        return out

    def _next_program_segment(self) -> SegmentAired:
        now = self.w.env.now
        while self.queue:
            item = self.queue.popleft()
            if item.kind == SegmentKind.TALK:
                length = self._talk_seconds(item.text)
                return self._segment(
                    SegmentKind.TALK, length, item.source, text=item.text, ref=item.ref
                )
            assert item.song is not None
            why = self.history.violation(item.song, now)
            if why is None:
                return self._song_segment(item.song, item.source)
            bumped = SegmentStatus.BUMPED
            self.w.bus.publish(
                self._segment(
                    SegmentKind.SONG, 0.0, item.source, song=item.song, status=bumped, text=why
                )
            )
        library = self.w.licenses.library(self.cs).values()
        song, source = self.history.pick(library, now, self._rng_rotation)
        return self._song_segment(song, source)

    def _song_segment(self, song: Song, source: SegmentSource) -> SegmentAired:
        self.history.record(song, self.w.env.now)
        self.now_playing = song
        self.now_ends_s = self.w.env.now + song.duration_s
        return self._segment(SegmentKind.SONG, float(song.duration_s), source, song=song)

    def _segment(
        self,
        kind: SegmentKind,
        length_s: float,
        source: SegmentSource,
        *,
        song: Song | None = None,
        text: str | None = None,
        status: SegmentStatus = SegmentStatus.AIRED,
        start: float | None = None,
        ref: str | None = None,
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
            ref,
        )

    def _talk_seconds(self, text: str) -> float:
        words = len(text.split())
        return max(3.0, words * 60.0 / self.w.clock_cfg.talk_words_per_minute)

    # -- decisions ----------------------------------------------------------------------
    def _start_thinking(self) -> None:
        if not self.thinking and not self.w.biller.is_bankrupt(self.cs):
            self.thinking = True
            self.w.env.process(self._think())

    def _ask(self, request: ModelRequest) -> simpy.Event:
        return self.w.dispatcher.ask(request)

    def _seed(self) -> int:
        return self._rng_model.getrandbits(31)

    def _think(self) -> Generator[simpy.Event, Any, None]:
        obs = self.observe()
        split = self.shape == TurnShape.SPLIT
        history = self._history() if not split else []
        request = turn_request(obs, self.voice, self._seed(), not split, history)
        response = yield self._ask(request)
        queued_at = len(self.queue)
        try:
            self._apply(response)
        except Exception as exc:  # the last guard: no model output may end a run
            self._fault(StationFault.APPLY_ERROR, f"{type(exc).__name__}: {excerpt(str(exc), 200)}")
            self._turn_taken(None, [], [], [f"apply error: {type(exc).__name__}"])
        if not split:
            self._remember(request, response)
        else:  # the words come in a request of their own, whatever became of the decisions
            nxt = next((i.song for i in list(self.queue)[queued_at:] if i.song), None)
            history = self._history()
            words = self.harness.talk_words
            request = talk_request(obs, self.voice, self._seed(), nxt, words, history)
            said = yield self._ask(request)
            talk = self._spoken(said, "talk")
            if talk:
                self.queue.insert(
                    min(queued_at, len(self.queue)),
                    _Item(SegmentKind.TALK, SegmentSource.MODEL, text=talk),
                )
                self.recent_talk.append(talk)
                self._remember(request, said)
        self.thinking = False

    def _spoken(self, response: ModelResponse, what: str) -> str:
        """Plain words from a text request, as they may air ("" with a logged fault if none)."""
        if not response.ok:
            self._fault(StationFault.MODEL_ERROR, response.error or "unknown error")
            return ""
        words = self._clean_talk(whole_sentences(response.text))
        if not words:
            self._fault(
                StationFault.INVALID_OUTPUT,
                f"{what}: no words; output: {excerpt(response.text, 200)}",
            )
        return words

    # -- memory ---------------------------------------------------------------------------
    def _history(self) -> list[dict[str, str]]:
        return list(self.transcript) if self.harness.memory == Memory.TRANSCRIPT else []

    def _remember(self, request: ModelRequest, response: ModelResponse) -> None:
        """Keep a turn as chat history (transcript memory), dropping the oldest past budget."""
        if self.harness.memory != Memory.TRANSCRIPT or not response.ok or not response.text:
            return
        self.transcript.append(request.messages[-1])
        self.transcript.append({"role": "assistant", "content": response.text})
        budget_chars = self.harness.transcript_tokens * 4
        dropped = 0
        while self.transcript and (
            len(self.transcript) > 2 * self.harness.transcript_turns
            or sum(len(m["content"]) for m in self.transcript) > budget_chars
        ):
            self.transcript.popleft()
            self.transcript.popleft()
            dropped += 1
        if dropped:
            kept = len(self.transcript) // 2
            self._fault(
                StationFault.TRANSCRIPT_DROPPED,
                f"dropped the oldest {dropped} turn(s) of chat history; {kept} kept",
            )

    # -- turns of their own (a section asks for them) ---------------------------------------
    def _take_dedicated_turns(self) -> None:
        for section in self.sections:
            for turn in section.dedicated_turns():
                self.w.env.process(self._dedicated(turn))

    def _dedicated(self, turn: DedicatedTurn) -> Generator[simpy.Event, Any, None]:
        text = self.shape == TurnShape.SPLIT
        header = f"Station {self.cs} ({self.id.name}), {self.id.city}."
        request = dedicated_request(
            turn, self.voice, header, self._seed(), text, self.harness.talk_words
        )
        response = yield self._ask(request)
        answer, why = self._answer(response, turn, text)
        try:
            applied = turn.settle(answer, why)
        except Exception as exc:  # the last guard, as for turns
            self._fault(StationFault.APPLY_ERROR, f"{type(exc).__name__}: {excerpt(str(exc), 200)}")
            return
        # the answer airs at the next break, before whatever was queued
        for song_id in reversed(applied.songs):
            song = self.w.licenses.library(self.cs).get(song_id)
            if song is None:
                self._fault(StationFault.RULE_REJECTED, f"play {song_id}: not in the library")
            else:
                self.queue.appendleft(_Item(SegmentKind.SONG, SegmentSource.MODEL, song=song))
        for words, ref in reversed(applied.talk):
            self.queue.appendleft(_Item(SegmentKind.TALK, SegmentSource.MODEL, text=words, ref=ref))
        for reason in applied.refused:
            self._fault(StationFault.RULE_REJECTED, reason)

    def _answer(
        self, response: ModelResponse, turn: DedicatedTurn, text: bool
    ) -> tuple[dict[str, Any] | None, str]:
        """The answer of a turn of its own as data, or None and why."""
        if not response.ok:
            return None, f"model error: {response.error or 'unknown'}"
        if text:
            words = whole_sentences(response.text)
            return ({turn.text_field: words}, "") if words.strip() else (None, "empty answer")
        try:
            data = loads_bounded(response.text.strip(), max_chars=8_000, max_depth=4)
        except UnsafeJSON as exc:
            return None, f"invalid output: {exc}"
        if not isinstance(data, dict):
            return None, "invalid output: not a JSON object"
        return data, ""

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
        views: dict[str, Any] = {}
        lines: list[str] = []
        schema: dict[str, dict[str, Any]] = {}
        instructions: list[str] = []
        for section in self.sections:
            view = section.view()
            if view is None:
                continue
            views[section.tool] = view
            lines.extend(section.lines(view))
            schema.update(section.schema(view))
            if section.instruction:
                instructions.append(section.instruction)
            for song, _cents in section.requests(view):  # a requested song can be acted on
                if song.id in library:
                    if song not in candidates and self.history.violation(song, at) is None:
                        candidates.append(song)
                elif song not in for_sale:
                    for_sale.append(song)
        audience = w.market.audience
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
            listeners_now=audience.listeners_now(self.cs),
            ratings=[
                (w.clock.label(q), aqh, share)
                for q, aqh, share in audience.recent(self.cs, RATINGS_SHOWN)
            ],
            tools=tuple(self.harness.tools),
            memory=self.harness.memory,
            sections=views,
            section_lines=lines,
            section_schema=schema,
            section_instructions=instructions,
        )

    def _apply(self, response: ModelResponse) -> CoreTurn | None:
        """Apply a turn's structured answer; None when there was nothing to apply."""
        if not response.ok:
            self._fault(StationFault.MODEL_ERROR, response.error or "unknown error")
            self._turn_taken(None, [], [], [f"model error: {response.error}"])
            return None
        try:
            turn = parse_turn(response.text)
        except TurnError as exc:
            self._fault(
                StationFault.INVALID_OUTPUT, f"{exc}; output: {excerpt(response.text, 300)}"
            )
            self._turn_taken(None, [], [], [f"invalid output: {exc}"])
            return None
        obs_views = self._views_now()
        parts = {s.tool: _part(turn, s) for s in self.sections}
        for section in self.sections:
            view = obs_views.get(section.tool)
            why = section.check(view, parts[section.tool]) if view is not None else ""
            if why:  # the harness requires what the turn left out: automation takes over
                self._fault(StationFault.TURN_REFUSED, why)
                self._turn_taken(None, [], [], [f"refused: {why}"])
                return None
        if turn.ignored_fields:
            ignored = ", ".join(turn.ignored_fields)
            self._fault(StationFault.IGNORED_FIELDS, f"not part of a turn: {ignored}")
        rejected = self._lacking_tools(turn)
        bought: list[str] = []
        if self.harness.has(Tool.BUY):
            for song_id in list(dict.fromkeys(turn.buy))[:2]:  # a repeated id is one purchase
                why = self.w.licenses.buy(self.cs, song_id)
                if why is None:
                    bought.append(song_id)
                else:
                    rejected.append(f"buy {song_id}: {why}")
        talk = self._clean_talk(turn.talk)
        if talk:
            self.queue.append(_Item(SegmentKind.TALK, SegmentSource.MODEL, text=talk))
            self.recent_talk.append(talk)
        library = self.w.licenses.library(self.cs)
        queued: list[str] = []
        if self.harness.has(Tool.QUEUE):
            for song_id in list(dict.fromkeys(turn.queue))[:4]:  # a repeat is queued once
                song = library.get(song_id)
                if song is None:
                    rejected.append(f"queue {song_id}: not in the library")
                else:
                    self.queue.append(_Item(SegmentKind.SONG, SegmentSource.MODEL, song=song))
                    queued.append(song_id)
        if self.harness.has(Tool.SEARCH):
            self.search_query = turn.search.strip()[:60]
        if self.harness.has(Tool.NOTES) and turn.notes.strip():
            self.notes.append(turn.notes.strip()[:200])
        invalid: list[str] = []
        records: dict[str, Any] = {}
        for section in self.sections:
            part = parts[section.tool]
            view = obs_views.get(section.tool)
            if view is None and not any(part.values()):
                continue  # nothing shown, nothing sent
            applied = section.apply(view, part)
            self._queue_applied(applied)
            rejected.extend(applied.refused)
            invalid.extend(applied.invalid)
            records.update(applied.record)
        for reason in rejected:
            self._fault(StationFault.RULE_REJECTED, reason)
        self._turn_taken(turn, queued, bought, rejected + invalid, records)
        return turn

    def _views_now(self) -> dict[str, Any]:
        """What each section shows now (the turn answers what it was shown a moment ago)."""
        return {s.tool: v for s in self.sections if (v := s.view()) is not None}

    def _lacking_tools(self, turn: CoreTurn) -> list[str]:
        """Refusals for what a turn tried with tools this station does not have."""
        out = []
        have = {f for s in self.sections for f in s.fields} | set(self.harness.tools) | {"talk"}
        for name in type(turn).model_fields:
            if name not in have and getattr(turn, name) not in (None, "", [], False):
                out.append(f"{name}: not a tool of this station")
        return out

    def _queue_applied(self, applied: Applied) -> None:
        for words, ref in applied.talk:
            self.queue.append(_Item(SegmentKind.TALK, SegmentSource.MODEL, text=words, ref=ref))
        library = self.w.licenses.library(self.cs)
        for song_id in applied.songs:
            song = library.get(song_id)
            if song is not None:
                self.queue.append(_Item(SegmentKind.SONG, SegmentSource.MODEL, song=song))

    def _clean_talk(self, text: str) -> str:
        """Words as they may air: spacing folded, at most ``max_talk_words`` words (and, so
        one endless "word" from a model cannot fill the log, ~16 characters a word)."""
        limit = self.w.clock_cfg.max_talk_words
        words = _SPACE.sub(" ", text[: limit * 16]).strip().split(" ")
        return " ".join(words[:limit]).strip()

    def _fault(self, kind: StationFault, detail: str) -> None:
        self.w.bus.publish(Fault(self.w.env.now, self.cs, kind, detail))

    def _turn_taken(
        self,
        turn: CoreTurn | None,
        queued: list[str],
        bought: list[str],
        rejected: list[str],
        records: Mapping[str, Any] | None = None,
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
                json.dumps(dict(records or {}), ensure_ascii=False),
            )
        )


def _part(turn: CoreTurn, section: Section) -> dict[str, Any]:
    return {name: getattr(turn, name) for name in section.fields}
