"""Nielsen ratings from listening sessions: hand-checked cases and properties."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from economy.ratings import (
    cume,
    quarter_hour_credits,
    ratings_from_sessions,
    shares,
    tsl_hours,
)


def credits(sessions: list[tuple[int, int, float, float]], q0: float, q1: float, n_s: int):
    lis, sta, start, end = (list(col) for col in zip(*sessions, strict=True))
    return quarter_hour_credits(lis, sta, start, end, q0, q1, n_s)


def test_four_fifty_nine_is_not_a_credit_five_minutes_is() -> None:
    aqh, keys = credits([(0, 0, 0.0, 299.0), (1, 0, 0.0, 300.0)], 0.0, 900.0, 1)
    assert aqh.tolist() == [1]
    assert keys.tolist() == [1]  # listener 1 × 1 station + station 0


def test_two_short_visits_to_one_station_add_up() -> None:
    sessions = [
        (0, 1, 0.0, 180.0),  # 3 min with station 1
        (0, 1, 400.0, 580.0),  # 3 more min with station 1: 6 min, a credit
        (1, 0, 0.0, 180.0),  # 3 min with station 0 ...
        (1, 1, 200.0, 380.0),  # ... and 3 with station 1: neither is a credit
    ]
    aqh, keys = credits(sessions, 0.0, 900.0, 2)
    assert aqh.tolist() == [0, 1]
    assert keys.tolist() == [0 * 2 + 1]


def test_a_session_across_two_quarters_counts_where_it_has_five_minutes() -> None:
    sessions = [(0, 0, 600.0, 1260.0), (1, 0, 700.0, 1300.0)]
    first, _ = credits(sessions, 0.0, 900.0, 1)
    second, _ = credits(sessions, 900.0, 1800.0, 1)
    assert first.tolist() == [1]  # listener 0: 300 s; listener 1: 200 s
    assert second.tolist() == [2]  # 360 s and 400 s


def test_end_is_exclusive_and_sessions_outside_do_not_count() -> None:
    aqh, keys = credits([(0, 0, 900.0, 1800.0), (1, 0, -600.0, 0.0)], 0.0, 900.0, 1)
    assert aqh.tolist() == [0]
    assert keys.size == 0


def test_cume_counts_distinct_listeners_across_quarters() -> None:
    sessions = [
        (0, 0, 0.0, 1800.0),  # listener 0: station 0 in both quarters
        (1, 0, 900.0, 1800.0),  # listener 1: station 0 in the second only
        (1, 1, 0.0, 600.0),  # listener 1: station 1 in the first
        (2, 1, 100.0, 350.0),  # 250 s: never credited
    ]
    _, k1 = credits(sessions, 0.0, 900.0, 2)
    _, k2 = credits(sessions, 900.0, 1800.0, 2)
    assert cume([k1, k2], 2).tolist() == [2, 1]
    assert cume([], 2).tolist() == [0, 0]


def test_shares() -> None:
    assert shares([3, 1, 0]).tolist() == [0.75, 0.25, 0.0]
    assert shares([0, 0]).tolist() == [0.0, 0.0]
    assert shares([[1, 1], [0, 2]]).tolist() == [[0.5, 0.5], [0.0, 1.0]]


def test_tsl_by_hand() -> None:
    # Station 0: AQH 2 then 4 over two quarters, cume 3 -> avg AQH 3 × 2 quarters / 3
    # = 2 quarter hours = 0.5 h. Station 1 has no cume: 0.
    tsl = tsl_hours(np.array([[2, 1], [4, 0]]), np.array([3, 0]))
    assert tsl.tolist() == [0.5, 0.0]


def test_ratings_from_sessions_by_hand() -> None:
    # listener: station, [start, end)
    sessions = [
        (0, 0, 0.0, 1800.0),
        (1, 0, 0.0, 600.0),
        (2, 1, 300.0, 1500.0),
        (3, 1, 1000.0, 1100.0),
    ]
    lis, sta, start, end = (list(c) for c in zip(*sessions, strict=True))
    r = ratings_from_sessions(lis, sta, start, end, [0.0, 900.0], 2)
    assert r.aqh.tolist() == [[2, 1], [1, 1]]
    assert r.share.tolist() == [[2 / 3, 1 / 3], [0.5, 0.5]]
    assert r.cume.tolist() == [2, 1]
    assert r.tsl_hours.tolist() == pytest.approx([3 * 0.25 / 2, 2 * 0.25 / 1])


# -- properties --------------------------------------------------------------------------
N_STATIONS = 4
QUARTERS = [0.0, 900.0, 1800.0, 2700.0]

session = st.tuples(
    st.integers(0, 15),
    st.integers(0, N_STATIONS - 1),
    st.floats(-900.0, 3600.0, allow_nan=False),
    st.floats(0.0, 2400.0, allow_nan=False),
)


def brute_force_aqh(sessions: list[tuple[int, int, float, float]], q0: float) -> list[int]:
    seconds: dict[tuple[int, int], float] = defaultdict(float)
    for who, sta, start, dur in sessions:
        seconds[(who, sta)] += max(0.0, min(start + dur, q0 + 900.0) - max(start, q0))
    aqh = [0] * N_STATIONS
    for (_, sta), s in seconds.items():
        if s >= 300.0 - 1e-6:
            aqh[sta] += 1
    return aqh


@settings(max_examples=200, deadline=None)
@given(st.lists(session, max_size=60))
def test_ratings_properties(sessions: list[tuple[int, int, float, float]]) -> None:
    lis = [s[0] for s in sessions]
    sta = [s[1] for s in sessions]
    start = [s[2] for s in sessions]
    end = [s[2] + s[3] for s in sessions]
    r = ratings_from_sessions(lis, sta, start, end, QUARTERS, N_STATIONS)
    population = len(set(lis))
    assert r.aqh.shape == (len(QUARTERS), N_STATIONS)
    assert (r.aqh <= population).all()
    assert (r.aqh <= r.cume[None, :]).all()
    assert (r.cume <= population).all()
    for q, q0 in enumerate(QUARTERS):
        assert r.aqh[q].tolist() == brute_force_aqh(sessions, q0)
        total = r.share[q].sum()
        assert total == pytest.approx(1.0) if r.aqh[q].sum() else total == 0.0
    # TSL cannot exceed the hours rated.
    assert (r.tsl_hours <= len(QUARTERS) * 0.25 + 1e-9).all()
