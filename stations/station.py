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

This module is the on-air loop, the asking for turns and the chat memory; what
the station shows its model is ``stations.observing``, how it applies the answers
``stations.applying``, what it is built from ``stations.station_world`` and its
fault kinds ``stations.faults``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

import simpy

from economy.airplay import SegmentKind, SegmentSource, SegmentStatus
from economy.catalog import Song
from sim.models.base import ModelRequest, ModelResponse, sha256_text
from sim.rng import RngStreams
from sim.text import excerpt
from stations.applying import Applying
from stations.brain import Voice, dedicated_request, talk_request, turn_request
from stations.faults import StationFault
from stations.harness import Memory, TurnShape
from stations.observing import Observing
from stations.programming import PlayHistory
from stations.records import SegmentAired, StationOnAir
from stations.sections import DedicatedTurn, Section, SectionWorld, registered
from stations.station_world import QueueItem, StationIdentity, StationWorld

HOUSE_PROMOS = (
    "{name}, {city}'s own. Tell a friend, and keep it right here on {call}.",
    "This hour of music comes to you ad-free thanks to listeners like you. {call}, {city}.",
    "Got a request? {call} takes them all day. Stay with us.",
)


class Station(Observing, Applying):
    def __init__(self, world: StationWorld, identity: StationIdentity, streams: RngStreams):
        self.w = world
        self.id = identity
        self.cs = identity.call_sign
        self.history = PlayHistory(world.rules)
        self.queue: deque[QueueItem] = deque()
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
                    QueueItem(SegmentKind.TALK, SegmentSource.MODEL, text=talk),
                )
                self.recent_talk.append(talk)
                self._remember(request, said)
        self.thinking = False

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
                self.queue.appendleft(QueueItem(SegmentKind.SONG, SegmentSource.MODEL, song=song))
        for words, ref in reversed(applied.talk):
            self.queue.appendleft(
                QueueItem(SegmentKind.TALK, SegmentSource.MODEL, text=words, ref=ref)
            )
        for reason in applied.refused:
            self._fault(StationFault.RULE_REJECTED, reason)
