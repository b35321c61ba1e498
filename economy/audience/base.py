"""What every audience is: the :class:`Audience` protocol, and the process it steps on.

The rest of the code (the market, the listener desk, sponsors and contracts, the
stations' observations) sees an audience only through :class:`Audience`. Both
implementations (:mod:`economy.audience.simulated`, :mod:`economy.audience.fixed`)
run on a :class:`Steps` process and rate through a :class:`~economy.ratings_book.RatingsBook`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from economy.ratings_book import RatingsBook

if TYPE_CHECKING:
    from economy.airplay import Aired
    from economy.audience.config import AudienceConfig
    from sim.bus import EventBus
    from sim.clock import SimClock


class Audience(Protocol):
    """The listeners of every station in a run."""

    @property
    def population(self) -> int:
        """People in the market (who may send mail, call in, be counted)."""
        ...

    def on_segment(self, seg: Aired) -> None:
        """Note an as-run segment of any station."""
        ...

    def listeners_now(self, station: str) -> int:
        """Listeners tuned in to ``station`` now."""
        ...

    def satisfaction(self, station: str) -> float:
        """Mean match, 0-1, of the station's current listeners with what is on air."""
        ...

    def latest(self, station: str) -> tuple[int, float] | None:
        """(AQH, share) of the last rated quarter hour, or None before the first."""
        ...

    def recent(self, station: str, n: int = 4) -> list[tuple[float, int, float]]:
        """The last ``n`` rated quarters, oldest first: (quarter start, AQH, share)."""
        ...

    def close(self) -> None:
        """End of run: rate the quarter that ends now (if due), report the daypart in progress."""
        ...


class Rated:
    """What both audiences share: how they are built (``make_audience``'s arguments), the
    ``RatingsBook`` their ratings come from, and the ``Steps`` process that ticks them; the
    run ends by closing the process, then the book. A subclass sets itself up in
    ``_start`` (returning when it first ticks and how often) and steps in ``_tick``."""

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
        self.env = env
        self.stations = list(stations)
        self._t0 = float(env.now)
        self._book = RatingsBook(bus, clock, self.stations, self._t0)
        first_t, step_s = self._start(cfg, genres, genre_of, clock, seed)
        self._steps = Steps(env, first_t, step_s, self._tick)

    def _start(
        self,
        cfg: AudienceConfig,
        genres: Sequence[str],
        genre_of: Callable[[str], str | None],
        clock: SimClock,
        seed: int,
    ) -> tuple[float, float]:
        raise NotImplementedError

    def _tick(self, t: float) -> None:
        raise NotImplementedError

    def latest(self, station: str) -> tuple[int, float] | None:
        """(AQH, share) of the last rated quarter hour, or None before the first."""
        return self._book.latest(station)

    def recent(self, station: str, n: int = 4) -> list[tuple[float, int, float]]:
        """The last ``n`` rated quarters, oldest first: (quarter start, AQH, share)."""
        return self._book.recent(station, n)

    def close(self) -> None:
        """Rate the quarter that ends now (if due) and report the daypart in progress."""
        if self._steps.close():
            self._book.close(float(self.env.now))


class Steps:
    """Calls ``tick(t)`` at ``first_t``, ``first_t + step_s``, … until closed.

    ``close()`` runs the tick due at the current time, if it has not run yet, and
    stops the process.
    """

    def __init__(
        self,
        env: simpy.Environment,
        first_t: float,
        step_s: float,
        tick: Callable[[float], None],
    ) -> None:
        self.env = env
        self.closed = False
        self._next_t = first_t
        self._last_t = -math.inf
        self._step_s = step_s
        self._tick = tick
        env.process(self._run())

    def close(self) -> bool:
        """Run the tick due now (if any) and stop; False if already closed."""
        if self.closed:
            return False
        now = float(self.env.now)
        if self._last_t < self._next_t <= now + 1e-9:
            self._fire(self._next_t)
        self.closed = True
        return True

    def _run(self) -> Generator[simpy.Event, Any, None]:
        while not self.closed:
            yield self.env.timeout(max(0.0, self._next_t - self.env.now))
            if self.closed:
                return
            self._fire(self._next_t)
            self._next_t += self._step_s

    def _fire(self, t: float) -> None:
        self._last_t = t
        self._tick(t)
