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

from economy.audience.base import Rated
from sim.clock import QUARTER_HOUR_S

if TYPE_CHECKING:
    from economy.airplay import Aired
    from economy.audience.config import AudienceConfig
    from sim.clock import SimClock


class FixedAudience(Rated):
    """``fixed_aqh`` listeners per station, whatever is on air; rated every quarter hour."""

    def _start(
        self,
        cfg: AudienceConfig,
        genres: Sequence[str],
        genre_of: Callable[[str], str | None],
        clock: SimClock,
        seed: int,
    ) -> tuple[float, float]:
        """Genres, what is on air and the seed do not move a fixed audience."""
        self._aqh = cfg.fixed_aqh
        self.population = cfg.fixed_aqh * len(self.stations)
        return self._t0 + clock.seconds_to_next_quarter(self._t0), QUARTER_HOUR_S

    def on_segment(self, seg: Aired) -> None:
        """What airs does not move a fixed audience."""

    def listeners_now(self, station: str) -> int:
        return self._aqh

    def satisfaction(self, station: str) -> float:
        return 0.5

    def _tick(self, t: float) -> None:
        persons = np.full(len(self.stations), self._aqh, dtype=np.int64)
        self._book.close_quarter_panel(t, persons)
