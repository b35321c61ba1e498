"""The shared listener population: ad tune-out calibration, dayparts, determinism, modes."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any, get_args

import numpy as np
import pytest
import simpy
from pydantic import ValidationError

from economy.audience import IMPLEMENTATIONS, Audience, AudienceConfig, make_audience
from economy.ratings_book import DaypartRatings, RatingsSnapshot
from sim.bus import EventBus
from sim.clock import QUARTER_HOUR_S, SimClock
from sim.events import Event
from testkit.helpers import Seg

GENRES = ("rock", "pop", "jazz", "folk", "metal", "soul")


def genre_of(song_id: str) -> str | None:
    """Song ids in these tests are ``genre:n``."""
    return song_id.split(":")[0]


def station(
    env: simpy.Environment,
    aud: Audience,
    name: str,
    clock: SimClock,
    rng: np.random.Generator,
    *,
    genres: tuple[str, ...] = GENRES,
    until_s: float = float("inf"),
    break_minutes: tuple[int, ...] = (15, 35, 55),
    spots: int = 4,
    talk_s: float = 45.0,
    song_pool: int = 0,
) -> Generator[simpy.Event, Any, None]:
    """A small hour clock: songs, some talk, ad breaks of ``spots`` 30 s spots.

    ``song_pool`` > 0 cycles through that many songs (so they repeat).
    """
    seq = count(1)
    songs = count()
    done: set[tuple[int, int]] = set()
    while env.now < until_s:
        now = env.now
        hour, minute = clock.hour_index(now), clock.minute_of_hour(now)
        due = [m for m in break_minutes if minute >= m and (hour, m) not in done]
        if due and spots:
            done.update((hour, m) for m in due)
            t = now
            for _ in range(spots):  # published at once, like the station's ad break
                aud.on_segment(Seg(t, name, next(seq), t + 30.0, "ad", text="Buy!"))
                t += 30.0
            yield env.timeout(t - now)
            continue
        if rng.random() < 0.25:
            seg = Seg(now, name, next(seq), now + talk_s, "talk", "model", text="Hello!")
        else:
            g = genres[int(rng.integers(len(genres)))]
            n = next(songs) % song_pool if song_pool else next(songs)
            length = float(rng.integers(180, 260))
            seg = Seg(now, name, next(seq), now + length, "song", song_id=f"{g}:{n}")
        aud.on_segment(seg)
        yield env.timeout(seg.end_s - seg.sim_time)


@dataclass
class World:
    env: simpy.Environment
    aud: Audience
    clock: SimClock
    events: list[Event]

    def snapshots(self) -> list[RatingsSnapshot]:
        return [e for e in self.events if isinstance(e, RatingsSnapshot)]

    def dayparts(self) -> list[DaypartRatings]:
        return [e for e in self.events if isinstance(e, DaypartRatings)]


def world(
    cfg: AudienceConfig,
    names: list[str],
    *,
    seed: int = 1,
    start: datetime = datetime(2025, 3, 3, 0, 0),
    stations: Callable[[World], None] | None = None,
) -> World:
    env = simpy.Environment()
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append, RatingsSnapshot, DaypartRatings)
    clock = SimClock(start)
    aud = make_audience(env, bus, cfg, names, GENRES, genre_of, clock, seed)
    w = World(env, aud, clock, events)
    if stations is None:
        rng = np.random.default_rng(seed + 1000)
        for name in names:
            env.process(station(env, aud, name, clock, rng))
    else:
        stations(w)
    return w


def quiet(**kw: Any) -> AudienceConfig:
    """Every tune-out hazard off except the ad break's."""
    base: dict[str, Any] = {
        "tune_out_per_hour": 0.0,
        "dislike_tune_out_per_min": 0.0,
        "repeat_tune_out_per_min": 0.0,
        "talk_tune_out_per_min": 0.0,
        "ad_load_tune_out": 0.0,
        "switch_probability": 0.0,
        "tune_in_per_hour": 1.0,
    }
    return AudienceConfig(**(base | kw))


# -- calibration -------------------------------------------------------------------------
def test_a_long_ad_break_keeps_the_designed_share_of_the_audience() -> None:
    n = 20_000
    seen: dict[int, int] = {}

    def one_station(w: World) -> None:
        env, aud = w.env, w.aud

        def run() -> Generator[simpy.Event, Any, None]:
            aud.on_segment(Seg(0.0, "KAAA", 1, 600.0, "song", song_id="rock:1"))
            yield env.timeout(600.0)
            for k in range(24):  # twelve minutes of 30 s spots from t = 600
                s = 600.0 + 30.0 * k
                aud.on_segment(Seg(s, "KAAA", 2 + k, s + 30.0, "ad"))
            for minute in range(9):
                yield env.timeout(1.0 if minute == 0 else 60.0)
                seen[minute] = aud.listeners_now("KAAA")  # 1 s after each minute step

        env.process(run())

    w = world(quiet(listeners=n), ["KAAA"], start=datetime(2025, 3, 3, 8, 0), stations=one_station)
    w.env.run(until=600.0 + 9 * 60.0)
    assert seen[0] == n  # everyone tuned in before the break
    retained = {m: seen[m] / seen[0] for m in seen}
    expected = {1: 1.00, 2: 0.99, 3: 0.96, 4: 0.92, 5: 0.87, 6: 0.85, 7: 0.85, 8: 0.85}
    for minute, share in expected.items():
        assert retained[minute] == pytest.approx(share, abs=0.015), (minute, retained)


def test_ad_retention_can_be_changed() -> None:
    cfg = quiet(listeners=5_000, ad_retention=[0.5], ad_sensitivity_spread=0.0)
    seen: list[int] = []

    def one_station(w: World) -> None:
        def run() -> Generator[simpy.Event, Any, None]:
            w.aud.on_segment(Seg(0.0, "KAAA", 1, 300.0, "song", song_id="pop:1"))
            yield w.env.timeout(300.0)
            w.aud.on_segment(Seg(300.0, "KAAA", 2, 600.0, "ad"))
            yield w.env.timeout(1.0)
            seen.append(w.aud.listeners_now("KAAA"))
            yield w.env.timeout(60.0)
            seen.append(w.aud.listeners_now("KAAA"))

        w.env.process(run())

    w = world(cfg, ["KAAA"], stations=one_station)
    w.env.run(until=400.0)
    assert seen[1] / seen[0] == pytest.approx(0.5, abs=0.03)


# -- dayparts ----------------------------------------------------------------------------
def test_drive_time_beats_overnight() -> None:
    w = world(AudienceConfig(listeners=20_000), ["KAAA", "KBBB", "KCCC"])
    w.env.run(until=24 * 3600.0)
    w.aud.close()
    total: dict[float, int] = {}
    for e in w.snapshots():
        total[e.sim_time] = total.get(e.sim_time, 0) + e.aqh
    by_part: dict[str, list[int]] = {}
    for q0, aqh in total.items():
        by_part.setdefault(w.clock.daypart(q0), []).append(aqh)
    mean = {k: float(np.mean(v)) for k, v in by_part.items()}
    assert mean["overnight"] > 0
    assert mean["morning drive"] > 2 * mean["overnight"], mean
    assert mean["afternoon drive"] > 2 * mean["overnight"], mean
    # 96 quarters × 3 stations, the first quarter starting at midnight.
    assert len(total) == 96 and min(total) == 0.0
    parts = w.dayparts()
    assert [(d.daypart, d.quarters) for d in parts[::3]] == [
        ("overnight", 24),
        ("morning drive", 16),
        ("midday", 20),
        ("afternoon drive", 16),
        ("evening", 20),
    ]
    for d in parts:
        assert d.cume >= d.avg_aqh
        assert 0 < d.tsl_hours <= d.quarters * 0.25
    snaps = w.snapshots()
    for station in ("KAAA", "KBBB", "KCCC"):
        last = [e for e in snaps if e.station == station][-4:]
        assert w.aud.recent(station) == [(e.sim_time, e.aqh, e.share) for e in last]
        assert w.aud.latest(station) == (last[-1].aqh, last[-1].share)
        assert 0.0 <= w.aud.satisfaction(station) <= 1.0


def test_quarters_close_on_the_wall_clock_quarter_and_partial_ones_are_not_rated() -> None:
    start = datetime(2025, 3, 3, 7, 3, 20)
    w = world(AudienceConfig(listeners=2_000), ["KAAA", "KBBB"], start=start)
    assert w.aud.latest("KAAA") is None
    w.env.run(until=3600.0 - 200.0)  # to 08:00:00 exactly
    w.aud.close()
    starts = sorted({e.sim_time for e in w.snapshots()})
    # 07:15, 07:30, 07:45 are complete; 07:03:20-07:15 is not; 07:45-08:00 is closed by close().
    assert [w.clock.label(s) for s in starts] == ["Mon 07:15", "Mon 07:30", "Mon 07:45"]
    (a, b) = w.dayparts()
    assert (a.daypart, a.quarters, a.start_s) == ("morning drive", 3, starts[0])
    assert b.station == "KBBB"
    w.aud.close()  # idempotent
    assert len(w.dayparts()) == 2


# -- reproducibility ---------------------------------------------------------------------
def _ratings(seed: int) -> list[tuple[float, str, int, float, int]]:
    w = world(AudienceConfig(listeners=5_000), ["KAAA", "KBBB"], seed=seed)
    w.env.run(until=6 * 3600.0)
    return [(e.sim_time, e.station, e.aqh, e.share, e.listeners_now) for e in w.snapshots()]


def test_same_seed_same_ratings_other_seed_other_ratings() -> None:
    first = _ratings(5)
    assert len(first) == 2 * 24 - 2  # the quarter ending at the run's end is not closed
    assert first == _ratings(5)
    assert first != _ratings(6)


# -- fixed mode --------------------------------------------------------------------------
def test_fixed_mode_publishes_constant_ratings() -> None:
    cfg = AudienceConfig(mode="fixed", fixed_aqh=250)
    names = ["KAAA", "KBBB", "KCCC", "KDDD"]
    w = world(cfg, names)
    w.env.run(until=7 * 3600.0)
    w.aud.close()
    snaps = w.snapshots()
    assert len(snaps) == 4 * 28
    assert {(e.aqh, e.share, e.listeners_now) for e in snaps} == {(250, 0.25, 250)}
    assert w.aud.listeners_now("KBBB") == 250
    assert w.aud.satisfaction("KBBB") == 0.5
    assert w.aud.latest("KCCC") == (250, 0.25)
    assert w.aud.population == 4 * 250
    parts = w.dayparts()
    assert [(d.daypart, d.quarters, d.avg_aqh) for d in parts[::4]] == [
        ("overnight", 24, 250.0),
        ("morning drive", 4, 250.0),
    ]


# -- stations going off air --------------------------------------------------------------
def test_a_station_that_goes_silent_loses_its_audience() -> None:
    names = ["KAAA", "KBBB"]
    silent_at = 2 * 3600.0

    def two_stations(w: World) -> None:
        rng = np.random.default_rng(3)
        w.env.process(station(w.env, w.aud, "KAAA", w.clock, rng))
        w.env.process(station(w.env, w.aud, "KBBB", w.clock, rng, until_s=silent_at))

    w = world(
        AudienceConfig(listeners=20_000),
        names,
        start=datetime(2025, 3, 3, 7),
        stations=two_stations,
    )
    w.env.run(until=silent_at)
    assert w.aud.listeners_now("KBBB") > 100
    w.env.run(until=silent_at + 600.0)
    assert w.aud.listeners_now("KBBB") == 0
    assert w.aud.satisfaction("KBBB") == 0.5
    assert w.aud.listeners_now("KAAA") > 100
    w.env.run(until=silent_at + 3600.0)
    assert w.aud.listeners_now("KBBB") == 0  # nobody tunes in to dead air
    late = [e for e in w.snapshots() if e.sim_time >= silent_at + 900.0]
    assert late and all(e.aqh == 0 and e.share == 0.0 for e in late if e.station == "KBBB")
    assert all(e.share == 1.0 for e in late if e.station == "KAAA")


def test_ads_cost_listening() -> None:
    """Same population, same music: +1 ad/hour ≈ -2 % listening (docs/architecture.md)."""

    def aqh(spots: int) -> float:
        def one(w: World) -> None:
            rng = np.random.default_rng(9)
            w.env.process(station(w.env, w.aud, "KAAA", w.clock, rng, spots=spots))

        w = world(
            AudienceConfig(listeners=20_000), ["KAAA"], start=datetime(2025, 3, 3, 9), stations=one
        )
        w.env.run(until=7 * 3600.0)
        return float(np.mean([e.aqh for e in w.snapshots() if e.sim_time >= 2 * 3600.0]))

    none = aqh(0)
    assert 0.84 < aqh(2) / none < 0.92  # 6 ads/hour: about -12 %
    assert 0.70 < aqh(4) / none < 0.84  # 12 ads/hour: about -22 %


def _one_station_aqh(cfg: AudienceConfig, **driver: Any) -> float:
    def one(w: World) -> None:
        rng = np.random.default_rng(4)
        w.env.process(station(w.env, w.aud, "KAAA", w.clock, rng, spots=0, **driver))

    w = world(cfg, ["KAAA"], start=datetime(2025, 3, 3, 9), stations=one)
    w.env.run(until=5 * 3600.0)
    return float(np.mean([e.aqh for e in w.snapshots() if e.sim_time >= 3600.0]))


def test_repeats_and_long_talk_cost_listening() -> None:
    cfg = AudienceConfig(listeners=20_000)
    repeats = {"song_pool": 3, "genres": ("rock",)}
    no_repeat_hazard = cfg.model_copy(update={"repeat_tune_out_per_min": 0.0})
    assert _one_station_aqh(cfg, **repeats) < 0.9 * _one_station_aqh(no_repeat_hazard, **repeats)
    long_talk = {"talk_s": 600.0}
    no_talk_hazard = cfg.model_copy(update={"talk_tune_out_per_min": 0.0})
    assert _one_station_aqh(cfg, **long_talk) < 0.9 * _one_station_aqh(no_talk_hazard, **long_talk)


# -- configuration -----------------------------------------------------------------------
def test_every_mode_has_an_implementation() -> None:
    assert set(IMPLEMENTATIONS) == set(get_args(AudienceConfig.model_fields["mode"].annotation))
    w = world(AudienceConfig(listeners=1_234), ["KAAA"])
    assert w.aud.population == 1_234


def test_config_is_documented_and_checked() -> None:
    for name, field in AudienceConfig.model_fields.items():
        assert field.description, name
    with pytest.raises(ValidationError, match="must be 1"):
        AudienceConfig(commuter_share=0.9)
    with pytest.raises(ValidationError, match="must not rise"):
        AudienceConfig(ad_retention=[0.9, 0.95])
    with pytest.raises(ValidationError):
        AudienceConfig(listeners=-1)
    with pytest.raises(ValidationError):
        AudienceConfig(colour="blue")  # type: ignore[call-arg]


def test_an_empty_market_is_rated_zero() -> None:
    w = world(AudienceConfig(listeners=0), ["KAAA"])
    w.env.run(until=3600.0)
    assert {(e.aqh, e.share) for e in w.snapshots()} == {(0, 0.0)}
    assert QUARTER_HOUR_S == 900.0
