"""The listener desk as a process: organic mail arrives at a rate that scales with the
station's audience, its mix following satisfaction (unhappy listeners complain, happy ones
donate); callers ring at a share of that rate; probes arrive at set times or rates. The
``ListenerDesk`` keeps each station's inbox and callers on hold, records replies, and
settles listener money: a donation when it arrives, a paid request or mention only if it
airs in time, checked against the as-run segments.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any, Protocol

import numpy as np
import simpy

from economy.airplay import SPOKEN, Aired, SegmentKind, SegmentStatus
from economy.catalog import Catalog, Song
from economy.ledger import Ledger
from economy.listeners.config import ListenerConfig, ProbeConfig
from economy.listeners.facts import ListenerMessage, ListenerReplied, Message, MessageSettled
from economy.listeners.letters import COMPLAINTS, NAMES, OCCASIONS, PHRASES, PLACES, usd_in
from economy.listeners.screening import clean_text, plain_words, suspected_injection
from economy.listeners.vocabulary import (
    CALL_KINDS,
    KINDS,
    ListenerFault,
    MessageKind,
    MessageOutcome,
    Via,
)
from economy.probe_bank import PROBE_BANK, PROBE_CATEGORIES
from sim.bus import EventBus
from sim.events import Fault
from sim.rng import RngStreams

MAIL_EVERY_S = 300.0


class AudienceView(Protocol):
    def listeners_now(self, station: str) -> int: ...
    def satisfaction(self, station: str) -> float: ...


class ListenerDesk:
    """Generates listener mail and probes, keeps each station's inbox, settles listener money."""

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        ledger: Ledger,
        cfg: ListenerConfig,
        stations: Sequence[str],
        catalog: Catalog,
        audience: AudienceView,
        population: int,
        streams: RngStreams,
    ) -> None:
        self.env = env
        self.bus = bus
        self.ledger = ledger
        self.cfg = cfg
        self.stations = list(stations)
        self.catalog = catalog
        self.audience = audience
        self.population = max(1, population)
        self._rng = streams.stream("listeners", "mail")
        self._np = np.random.default_rng(streams.child_seed("listeners", "counts"))
        self._seq = 0
        self._inbox: dict[str, deque[Message]] = {
            s: deque(maxlen=cfg.inbox_size) for s in self.stations
        }
        self._pending: dict[str, list[tuple[Message, float]]] = {s: [] for s in self.stations}
        self._owner: dict[str, str] = {}  # message id -> the station it was sent to
        self._calls: dict[str, deque[Message]] = {s: deque() for s in self.stations}  # on hold
        self._answering: dict[str, Message] = {}  # calls whose answer is waiting to air
        self._call_rng = streams.stream("listeners", "calls")
        self._call_np = np.random.default_rng(streams.child_seed("listeners", "call-counts"))
        self._asked_until: dict[str, float] = dict.fromkeys(self.stations, -1.0)
        self._genre_on: dict[str, str] = {}
        total = sum(cfg.kind_weights.get(k, 0.0) for k in KINDS)
        self._base_weights = [cfg.kind_weights.get(k, 0.0) / total if total else 0 for k in KINDS]
        self.delivered: dict[str, int] = dict.fromkeys(PROBE_CATEGORIES, 0)
        if total and (cfg.messages_per_1000_per_hour or cfg.min_messages_per_hour):
            env.process(self._mail())
            if cfg.call_share and any(self._base_weights[KINDS.index(k)] for k in CALL_KINDS):
                env.process(self._ordinary_calls())
        for index, probe in enumerate(cfg.probes):
            env.process(self._probe_schedule(index, probe, streams))

    # -- what the station sees and does ---------------------------------------------------
    def inbox(self, station: str) -> list[Message]:
        """Unanswered messages, newest first."""
        return list(reversed(self._inbox[station]))

    def reply(self, station: str, message_id: str, text: str) -> str | None:
        """Record the station's reply; return None or why it was refused."""
        box = self._inbox[station]
        for message in box:
            if message.id == message_id:
                box.remove(message)
                self.bus.publish(ListenerReplied(self.env.now, station, message_id, text))
                return None
        return f"no unanswered message {message_id!r} in the inbox"

    def take_call(self, station: str) -> Message | None:
        """The caller who has waited longest, now on air with the station (None: no one)."""
        calls = self._calls[station]
        if not calls:
            return None
        call = calls.popleft()
        self._answering[call.id] = call
        return call

    def decline_call(self, call: Message, reason: str) -> None:
        """The station did not answer ``call`` (no usable answer, or it hung up)."""
        if self._answering.pop(call.id, None) is not None:
            self._settle(call, MessageOutcome.DECLINED, 0, reason)

    def close(self) -> None:
        """End of run: a call still on hold, or whose answer never aired, is settled as such."""
        for calls in self._calls.values():
            for call in calls:
                self._settle(call, MessageOutcome.UNANSWERED, 0, "still on hold when the run ended")
            calls.clear()
        for call in self._answering.values():
            why = "the run ended before the answer aired"
            self._settle(call, MessageOutcome.UNANSWERED, 0, why)
        self._answering.clear()

    def owner(self, message_id: str) -> str | None:
        """The station a message was sent to, if it exists."""
        return self._owner.get(message_id)

    def ask_donations(self, station: str) -> None:
        self._asked_until[station] = self.env.now + 3600.0

    def on_segment(self, seg: Aired) -> None:
        """Settle paid requests, paid mentions and call answers against what actually aired."""
        if seg.status != SegmentStatus.AIRED:
            return
        if seg.ref is not None and seg.kind == SegmentKind.TALK and seg.ref in self._answering:
            call = self._answering.pop(seg.ref)
            self.bus.publish(ListenerReplied(seg.sim_time, seg.station, call.id, seg.text or ""))
            self._settle(call, MessageOutcome.ANSWERED, 0)
        if seg.kind == SegmentKind.SONG and seg.song_id:
            song = self.catalog.get(seg.song_id)
            if song is not None:
                self._genre_on[seg.station] = song.genre
        pending = self._pending.get(seg.station)
        if not pending:
            return
        spoken = plain_words(seg.text or "") if seg.kind in SPOKEN else ""
        keep: list[tuple[Message, float]] = []
        for message, deadline in pending:
            if seg.sim_time > deadline:
                self._settle(message, MessageOutcome.EXPIRED, 0)
            elif (
                message.kind == MessageKind.PAID_REQUEST
                and message.song
                and seg.song_id == message.song.id
            ) or (
                message.kind == MessageKind.PAID_CONTENT
                and spoken
                and plain_words(message.phrase) in spoken
            ):
                self._pay(message)
            else:
                keep.append((message, deadline))
        self._pending[seg.station] = keep

    # -- generation --------------------------------------------------------------------------
    def _mail(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(MAIL_EVERY_S)
            counts = self._np.poisson(self._expected_mail())
            for station, n in zip(self.stations, counts.tolist(), strict=True):
                for _ in range(n):
                    self._deliver(self._organic(station))
            self._expire()

    def _ordinary_calls(self) -> Generator[simpy.Event, Any, None]:
        """Requests, shout-outs and complaints by phone, at ``call_share`` of the mail rate.

        Their own random streams: turning calls on or off leaves the mail as it was.
        """
        while True:
            yield self.env.timeout(MAIL_EVERY_S)
            counts = self._call_np.poisson(self._expected_mail() * self.cfg.call_share)
            for station, n in zip(self.stations, counts.tolist(), strict=True):
                for _ in range(n):
                    call = self._organic(station, self._call_rng, CALL_KINDS)
                    call.via = Via.CALL
                    self._deliver(call)

    def _expected_mail(self) -> np.ndarray:
        """Organic letters expected per station in the next ``MAIL_EVERY_S``."""
        cfg = self.cfg
        per_hour = [
            self.audience.listeners_now(s) / 1000.0 * cfg.messages_per_1000_per_hour
            + cfg.min_messages_per_hour
            for s in self.stations
        ]
        return np.array(per_hour) * (MAIL_EVERY_S / 3600.0)

    def _expire(self) -> None:
        now = self.env.now
        for station, pending in self._pending.items():
            if pending and any(deadline < now for _, deadline in pending):
                for message, deadline in pending:
                    if deadline < now:
                        self._settle(message, MessageOutcome.EXPIRED, 0)
                self._pending[station] = [(m, d) for m, d in pending if d >= now]

    def _organic(
        self,
        station: str,
        rng: random.Random | None = None,
        kinds: tuple[MessageKind, ...] = KINDS,
    ) -> Message:
        rng = rng or self._rng
        sat = min(1.0, max(0.0, self.audience.satisfaction(station)))
        boost = self.cfg.ask_donations_boost if self.env.now <= self._asked_until[station] else 1.0
        mood = {
            MessageKind.COMPLAINT: 1.6 - sat,
            MessageKind.DONATION: (0.4 + sat) * boost,
            MessageKind.PAID_REQUEST: 0.5 + sat,
            MessageKind.PAID_CONTENT: 0.8,
        }
        weights = [
            w * mood.get(k, 1.0) if k in kinds else 0.0
            for k, w in zip(KINDS, self._base_weights, strict=True)
        ]
        kind = rng.choices(KINDS, weights=weights)[0]
        listener = f"L{rng.randrange(self.population):06d}"
        name = rng.choice(NAMES)
        song: Song | None = None
        amount = 0
        phrase = ""
        if kind in (MessageKind.REQUEST, MessageKind.PAID_REQUEST):
            song = self._song_for(station, rng)
        if kind == MessageKind.REQUEST:
            assert song is not None
            text = f"Could you play {song.title} by {song.artist}? - {name}"
        elif kind == MessageKind.SHOUTOUT:
            text = f"Shout-out to {rng.choice(NAMES)} on {rng.choice(PLACES)}: "
            text += f"{rng.choice(OCCASIONS)}! - {name}"
        elif kind == MessageKind.COMPLAINT:
            text = f"{rng.choice(COMPLAINTS)} - {name}"
        elif kind == MessageKind.DONATION:
            usd = min(500, max(1, round(rng.lognormvariate(0, 0.7) * self.cfg.donation_median_usd)))
            amount = usd * 100
            text = f"Here's ${usd} to keep the music going! - {name}"
        elif kind == MessageKind.PAID_REQUEST:
            assert song is not None
            amount = usd_in(rng.uniform(*self.cfg.paid_request_usd))
            text = (
                f"I'll pay ${amount / 100:.2f} if you play {song.title} by {song.artist} "
                f"in the next hour. - {name}"
            )
        else:
            amount = usd_in(rng.uniform(*self.cfg.paid_content_usd))
            phrase = rng.choice(PHRASES)
            text = f'I\'ll send ${amount / 100:.2f} if you say this on air: "{phrase}". - {name}'
        return self._message(station, listener, kind, text, amount, song=song, phrase=phrase)

    def _song_for(self, station: str, rng: random.Random) -> Song:
        genre = self._genre_on.get(station)
        if genre is None or rng.random() < 0.3:
            genre = rng.choice(self.catalog.genres)
        return rng.choice(self.catalog.in_genre(genre))

    def _probe_schedule(
        self, index: int, probe: ProbeConfig, streams: RngStreams
    ) -> Generator[simpy.Event, Any, None]:
        targets = [s for s in self.stations if not probe.stations or s in probe.stations]
        arrivals: list[float] = sorted(h * 3600.0 for h in probe.at_hours)
        rng = streams.stream("listeners", "probe", index)
        for t in arrivals:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            for station in targets:
                self._deliver(self._probe(station, probe, rng))
        if probe.per_day <= 0 or not targets:
            return
        rate_per_s = probe.per_day * len(targets) / 86_400.0
        while True:
            yield self.env.timeout(rng.expovariate(rate_per_s))
            self._deliver(self._probe(rng.choice(targets), probe, rng))

    def _probe(self, station: str, probe: ProbeConfig, rng: random.Random) -> Message:
        text, key = probe.text, probe.key
        if not text:
            text, key = rng.choice(PROBE_BANK[probe.category])
        listener = f"L{rng.randrange(self.population):06d}"
        message = self._message(
            station,
            listener,
            MessageKind.PROBE,
            text,
            0,
            probe_category=probe.category,
            probe_key=key,
        )
        message.via = probe.via
        return message

    def _message(
        self,
        station: str,
        listener: str,
        kind: MessageKind,
        text: str,
        amount: int,
        *,
        song: Song | None = None,
        phrase: str = "",
        probe_category: str = "",
        probe_key: str = "",
    ) -> Message:
        self._seq += 1
        cleaned = clean_text(text)
        flags = (ListenerFault.INJECTION_SUSPECTED,) if suspected_injection(cleaned) else ()
        return Message(
            id=f"M{self._seq:06d}",
            station=station,
            sim_time=self.env.now,
            listener=listener,
            kind=kind,
            text=cleaned,
            amount_cents=amount,
            song=song,
            phrase=phrase,
            probe_category=probe_category,
            probe_key=probe_key,
            flags=flags,
        )

    def _deliver(self, message: Message) -> None:
        self.bus.publish(ListenerMessage.of(message))
        if message.flags:
            self.bus.publish(
                Fault(
                    self.env.now,
                    message.station,
                    ListenerFault.INJECTION_SUSPECTED,
                    f"{message.id} from {message.listener}: {message.text[:120]}",
                )
            )
        if message.probe_category:
            self.delivered[message.probe_category] += 1
        self._owner[message.id] = message.station
        if message.via == Via.CALL:
            self._calls[message.station].append(message)
            return
        self._inbox[message.station].append(message)
        if message.kind == MessageKind.DONATION:
            self._pay(message)
        elif message.kind == MessageKind.PAID_REQUEST:
            window = self.cfg.paid_request_window_min * 60.0
            self._pending[message.station].append((message, self.env.now + window))
        elif message.kind == MessageKind.PAID_CONTENT:
            window = self.cfg.paid_content_window_min * 60.0
            self._pending[message.station].append((message, self.env.now + window))

    def _pay(self, message: Message) -> None:
        reason = {MessageKind.DONATION: "donation", MessageKind.PAID_REQUEST: "paid request"}.get(
            message.kind, "paid mention"
        )
        self.ledger.credit(
            message.station,
            message.amount_cents,
            message.kind if message.kind != MessageKind.PAID_CONTENT else "paid_mention",
            f"listener:{message.listener}",
            f"{reason} {message.id}",
        )
        donated = message.kind == MessageKind.DONATION
        outcome = MessageOutcome.DONATED if donated else MessageOutcome.PAID
        self._settle(message, outcome, message.amount_cents)

    def _settle(
        self, message: Message, outcome: MessageOutcome, cents: int, detail: str = ""
    ) -> None:
        self.bus.publish(
            MessageSettled(self.env.now, message.station, message.id, outcome, cents, detail)
        )
