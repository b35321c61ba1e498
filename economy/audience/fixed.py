"""The fixed audience: every station has the same constant audience, always.

It simulates nobody, so it is the cheap baseline that benchmarks compare against
(bench/market.py). Each station has ``fixed_aqh`` listeners tuned in throughout,
the same people every quarter hour; the :class:`~economy.ratings_book.RatingsBook`
rates them as a constant panel at every wall-clock quarter hour. What airs changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import simpy

from economy.audience.base import Rated, Steps
from economy.ratings_book import RatingsBook
from sim.clock import QUARTER_HOUR_S

if TYPE_CHECKING:
    from economy.airplay import Aired
    from economy.audience.config import AudienceConfig
    from sim.bus import EventBus
    from sim.clock import SimClock


class FixedAudience(Rated):
    """``fixed_aqh`` listeners per station, whatever is on air; rated every quarter hour."""

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        cfg: AudienceConfig,
        stations: Sequence[str],
        genres: Sequence[str],
        genre_of: Callable[[str], str | None],
        clock: SimClock,
        seed: int,
    ) -> None:
        """Same arguments as every audience; genres, genre_of and seed are not needed."""
        self.env = env
        self.stations = list(stations)
        self._aqh = cfg.fixed_aqh
        self.population = cfg.fixed_aqh * len(self.stations)
        t0 = float(env.now)
        self._book = RatingsBook(bus, clock, self.stations, t0)
        first = t0 + clock.seconds_to_next_quarter(t0)
        self._steps = Steps(env, first, QUARTER_HOUR_S, self._tick)

    def on_segment(self, seg: Aired) -> None:
        """What airs does not move a fixed audience."""

    def listeners_now(self, station: str) -> int:
        return self._aqh

    def satisfaction(self, station: str) -> float:
        return 0.5

    def _tick(self, t: float) -> None:
        persons = np.full(len(self.stations), self._aqh, dtype=np.int64)
        self._book.close_quarter_panel(t, persons)
