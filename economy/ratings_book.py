"""The ratings book: quarter hours and dayparts rated from listening sessions, published.

Whichever audience runs (:mod:`economy.audience`) feeds the book *closed* listening
sessions, four parallel arrays (listener, station index, start_s, end_s), and tells it
when a wall-clock quarter hour ends. The book clips every session to the quarter, so
a session still open when a quarter ends is fed as if it ended then; it is fed again,
from the same start, at the next quarter's end or when it closes. At each quarter's
end the book rates AQH and share (:mod:`economy.ratings`), publishes one
:class:`RatingsSnapshot` per station and keeps the quarter for ``latest`` and
``recent``; at each daypart boundary (and at ``close``) it publishes one
:class:`DaypartRatings` per station: cume, average AQH and TSL over the daypart's
rated quarters (the row says how many). Both events are stored, as the ``ratings``
and ``ratings_dayparts`` tables (:data:`RatingsRow`, :data:`DaypartRatingsRow`).

Only complete quarters are rated: the partial quarter a run starts in is dropped, as
it would understate AQH.

An audience that knows its numbers instead of simulating people (a constant panel:
the same persons per station, tuned in throughout) rates a quarter with
``close_quarter_panel``; a daypart's cume then counts its largest panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Index

from economy.ratings import cume, quarter_hour_credits, shares, tsl_hours
from sim.bus import EventBus
from sim.clock import QUARTER_HOUR_S, SimClock
from sim.events import Event, stored, table_of

Sessions = tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]
_NO_SESSIONS: Sessions = (
    np.empty(0, dtype=np.int32),
    np.empty(0, dtype=np.int32),
    np.empty(0, dtype=np.float64),
    np.empty(0, dtype=np.float64),
)


# -- tables and events ------------------------------------------------------------------
@stored(
    "ratings",
    "RatingsRow",
    indexes=(Index("ix_ratings_run_station_quarter", "run_id", "station", "quarter_start_s"),),
)
@dataclass(slots=True, frozen=True)
class RatingsSnapshot(Event):
    """One station's ratings for the quarter hour that starts at ``sim_time``."""

    station: str
    daypart: str
    aqh: int
    share: float
    listeners_now: int  # tuned in at the end of the quarter

    time_column: ClassVar[str | None] = "quarter_start_s"


@stored("ratings_dayparts", "DaypartRatingsRow")
@dataclass(slots=True, frozen=True)
class DaypartRatings(Event):
    """One station's cume, average AQH and TSL over a daypart (published at its end)."""

    station: str
    day: int
    daypart: str
    start_s: float
    quarters: int
    cume: int
    avg_aqh: float
    tsl_hours: float

    time_column: ClassVar[str | None] = None


RatingsRow = table_of(RatingsSnapshot)
DaypartRatingsRow = table_of(DaypartRatings)


# -- the book ---------------------------------------------------------------------------
class RatingsBook:
    """Rated quarters and the daypart in progress of a fixed list of stations."""

    def __init__(self, bus: EventBus, clock: SimClock, stations: Sequence[str], t0: float) -> None:
        self.bus = bus
        self.clock = clock
        self.stations = list(stations)
        self._index = {s: i for i, s in enumerate(self.stations)}
        self._t0 = t0
        n_s = len(self.stations)
        # closed sessions of the quarter in progress (listener, station, start, end)
        self._sessions: list[Sessions] = []
        # rated quarters: (quarter start, aqh [S], share [S])
        self._quarters: list[tuple[float, NDArray[np.int64], NDArray[np.float64]]] = []
        # the daypart in progress: key (day, name), first quarter start, per-quarter aqh/keys
        self._dp_key: tuple[int, str] | None = None
        self._dp_start = 0.0
        self._dp_aqh: list[NDArray[np.int64]] = []
        self._dp_keys: list[NDArray[np.int64]] = []
        self._dp_panel = np.zeros(n_s, dtype=np.int64)  # the largest panel of the daypart

    # -- inputs ---------------------------------------------------------------------------
    def add(
        self,
        listener: NDArray[np.int32],
        station: NDArray[np.int32],
        start_s: NDArray[np.float64],
        end_s: NDArray[np.float64],
    ) -> None:
        """Note closed listening sessions (parallel arrays; ``station`` is an index)."""
        self._sessions.append((listener, station, start_s, end_s))

    def close_quarter(self, t: float, listeners_now: NDArray[np.int64]) -> None:
        """Rate the quarter hour that ends at ``t`` from the sessions fed since the last one.

        ``listeners_now``: per station, the audience tuned in at ``t``.
        """
        q0 = t - QUARTER_HOUR_S
        parts = self._sessions
        self._sessions = []
        if q0 < self._t0 - 1e-9:
            return  # the first, partial quarter is not rated
        listener, station, start, end = (
            np.concatenate([p[k] for p in parts or [_NO_SESSIONS]]) for k in range(4)
        )
        aqh, keys = quarter_hour_credits(listener, station, start, end, q0, t, len(self.stations))
        self._rate(q0, aqh, keys, listeners_now)

    def close_quarter_panel(self, t: float, persons: NDArray[np.int64]) -> None:
        """Rate the quarter hour that ends at ``t`` for a constant panel.

        ``persons`` per station listened throughout the quarter and are the same
        people in every quarter: AQH and listeners now are ``persons``, and they count
        once towards the daypart's cume.
        """
        q0 = t - QUARTER_HOUR_S
        if q0 < self._t0 - 1e-9:
            return
        self._rate(q0, persons, None, persons)

    def close(self, at: float) -> None:
        """Publish the daypart in progress (if it has a rated quarter), dated ``at``."""
        self._publish_daypart(at)

    # -- queries --------------------------------------------------------------------------
    def latest(self, station: str) -> tuple[int, float] | None:
        """(AQH, share) of the last rated quarter hour, or None before the first."""
        if not self._quarters:
            return None
        _, aqh, share = self._quarters[-1]
        i = self._index[station]
        return int(aqh[i]), float(share[i])

    def recent(self, station: str, n: int = 4) -> list[tuple[float, int, float]]:
        """The last ``n`` rated quarters, oldest first: (quarter start, AQH, share)."""
        i = self._index[station]
        return [(q0, int(a[i]), float(s[i])) for q0, a, s in self._quarters[-n:] if n > 0]

    # -- publishing -----------------------------------------------------------------------
    def _rate(
        self,
        q0: float,
        aqh: NDArray[np.int64],
        keys: NDArray[np.int64] | None,
        now: NDArray[np.int64],
    ) -> None:
        key = (self.clock.day_index(q0), self.clock.daypart(q0))
        if key != self._dp_key:
            self._publish_daypart(q0)
            self._dp_key, self._dp_start = key, q0
        self._dp_aqh.append(aqh)
        if keys is None:  # a panel: the same persons every quarter
            self._dp_panel = np.maximum(self._dp_panel, aqh)
        else:
            self._dp_keys.append(keys)
        share = shares(aqh)
        self._quarters.append((q0, aqh, share))
        publish, name = self.bus.publish, key[1]
        for i, station in enumerate(self.stations):
            publish(RatingsSnapshot(q0, station, name, int(aqh[i]), float(share[i]), int(now[i])))

    def _publish_daypart(self, at: float) -> None:
        if self._dp_key is None or not self._dp_aqh:
            return
        day, name = self._dp_key
        n_s = len(self.stations)
        aqh = np.vstack(self._dp_aqh)
        c = cume(self._dp_keys, n_s) + self._dp_panel
        tsl = tsl_hours(aqh, c)
        avg = aqh.mean(axis=0)
        q = len(aqh)
        for i, station in enumerate(self.stations):
            self.bus.publish(
                DaypartRatings(
                    at,
                    station,
                    day,
                    name,
                    self._dp_start,
                    q,
                    int(c[i]),
                    float(avg[i]),
                    float(tsl[i]),
                )
            )
        self._dp_key = None
        self._dp_aqh = []
        self._dp_keys = []
        self._dp_panel = np.zeros(n_s, dtype=np.int64)
