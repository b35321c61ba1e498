"""The ratings book: quarters rated from closed sessions or a constant panel, dayparts."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from economy.ratings_book import DaypartRatings, RatingsBook, RatingsSnapshot
from sim.bus import EventBus
from sim.clock import SimClock
from sim.events import Event


def book(start: datetime, stations: list[str], t0: float = 0.0) -> tuple[RatingsBook, list[Event]]:
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append, RatingsSnapshot, DaypartRatings)
    return RatingsBook(bus, SimClock(start), stations, t0), events


def sessions(*rows: tuple[int, int, float, float]) -> tuple[np.ndarray, ...]:
    lis, st, s, e = zip(*rows, strict=True)
    return (
        np.asarray(lis, dtype=np.int32),
        np.asarray(st, dtype=np.int32),
        np.asarray(s, dtype=np.float64),
        np.asarray(e, dtype=np.float64),
    )


def test_a_quarter_is_rated_from_closed_sessions() -> None:
    b, events = book(datetime(2025, 3, 3, 10, 0), ["KAAA", "KBBB"])
    # listener 0: 6 min on KAAA; 1: two 3-minute visits to KBBB; 2: 4 min on KAAA only
    b.add(*sessions((0, 0, 0.0, 360.0), (1, 1, 100.0, 280.0), (2, 0, 0.0, 240.0)))
    b.add(*sessions((1, 1, 500.0, 680.0)))
    b.close_quarter(900.0, np.array([3, 1], dtype=np.int64))
    (a, k) = events
    assert isinstance(a, RatingsSnapshot) and isinstance(k, RatingsSnapshot)
    assert (a.station, a.sim_time, a.daypart, a.aqh, a.share, a.listeners_now) == (
        "KAAA", 0.0, "midday", 1, 0.5, 3,
    )  # fmt: skip
    assert (k.aqh, k.share, k.listeners_now) == (1, 0.5, 1)
    assert b.latest("KAAA") == (1, 0.5)
    assert b.recent("KBBB") == [(0.0, 1, 0.5)]


def test_the_partial_first_quarter_is_dropped_with_its_sessions() -> None:
    b, events = book(datetime(2025, 3, 3, 10, 5), ["KAAA"], t0=0.0)
    b.add(*sessions((0, 0, 0.0, 600.0)))
    b.close_quarter(600.0, np.array([0], dtype=np.int64))  # 10:00-10:15 began before t0
    assert events == [] and b.latest("KAAA") is None
    b.close_quarter(1500.0, np.array([0], dtype=np.int64))
    assert [(e.sim_time, e.aqh) for e in events] == [(600.0, 0)]


def test_dayparts_give_cume_and_tsl_and_close_reports_the_one_in_progress() -> None:
    b, events = book(datetime(2025, 3, 3, 9, 30), ["KAAA"])
    for q in range(4):  # 09:30 .. 10:30: two morning-drive quarters, two midday ones
        t0 = 900.0 * q
        b.add(*sessions((q % 2, 0, t0, t0 + 900.0)))
        b.close_quarter(t0 + 900.0, np.array([1], dtype=np.int64))
    b.close(3600.0)
    parts = [e for e in events if isinstance(e, DaypartRatings)]
    assert [(d.daypart, d.sim_time, d.start_s, d.quarters, d.cume) for d in parts] == [
        ("morning drive", 1800.0, 0.0, 2, 2),
        ("midday", 3600.0, 1800.0, 2, 2),
    ]
    assert parts[0].avg_aqh == 1.0
    assert parts[0].tsl_hours == pytest.approx(0.25)  # 2 quarters × 0.25 h / 2 people


def test_a_constant_panel_counts_once_towards_cume() -> None:
    b, events = book(datetime(2025, 3, 3, 10, 0), ["KAAA", "KBBB"])
    for q in range(1, 5):
        b.close_quarter_panel(900.0 * q, np.array([300, 100], dtype=np.int64))
    b.close(3600.0)
    snaps = [e for e in events if isinstance(e, RatingsSnapshot)]
    assert {(e.station, e.aqh, e.share, e.listeners_now) for e in snaps} == {
        ("KAAA", 300, 0.75, 300),
        ("KBBB", 100, 0.25, 100),
    }
    parts = [e for e in events if isinstance(e, DaypartRatings)]
    assert [(d.station, d.quarters, d.cume, d.avg_aqh, d.tsl_hours) for d in parts] == [
        ("KAAA", 4, 300, 300.0, 1.0),
        ("KBBB", 4, 100, 100.0, 1.0),
    ]
