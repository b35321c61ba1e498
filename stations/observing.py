"""What a station shows its model before a turn: ``Observing.observe`` gathers the clock,
what is playing, the balance, rotation candidates and songs for sale, the audience and its
ratings, and each section's view, lines, schema and instruction into an ``Observation``.
A mixin of ``stations.station.Station``, whose state it reads.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from economy.catalog import Song
from stations.brain import Observation
from stations.harness import HarnessConfig
from stations.programming import PlayHistory
from stations.sections import Section
from stations.station_world import StationIdentity, StationWorld

CANDIDATES_SHOWN = 6
FOR_SALE_SHOWN = 3
RATINGS_SHOWN = 4


class Observing:
    """The observation half of a ``Station`` (see ``stations.station``)."""

    w: StationWorld
    id: StationIdentity
    cs: str
    history: PlayHistory
    harness: HarnessConfig
    sections: list[Section]
    search_query: str
    now_playing: Song | None
    now_ends_s: float
    recent_talk: deque[str]
    notes: deque[str]
    _rng_observe: random.Random

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
