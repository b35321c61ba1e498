"""One listener population shared by every station, and its Nielsen ratings.

``simulated`` mode keeps N listeners in flat numpy arrays and steps them once a
simulated minute. Each listener has genre tastes, a type with an hourly
availability curve (commuters, office, evening, night owls), a talk tolerance,
an ad sensitivity and a loyalty to a home station. Every minute:

- listeners who are tuned in leave with a hazard that rises with minutes into an
  ad break (calibrated to docs/architecture.md's commercial tune-out: 100/99/96/92/87/85 %
  of the audience left after 1-6 minutes of a break), a repeated song, a genre
  they dislike, talk running past their tolerance, low availability this hour
  and the station's ad load (+1 ad/hour ≈ -2 % listening); some switch to
  another station instead of going off;
- a few off listeners tune in (at a rate set by their availability this hour)
  and pick a station or stay off by a multinomial logit (Gumbel-max): taste for
  the station's genre, loyalty to their home station, a penalty for an ad break.

Only the listening subset and the few listeners tuning in each minute are
touched, so a step costs O(listening + tuners × stations), not O(N × S).
Listening sessions feed :mod:`economy.ratings` at every wall-clock quarter hour
(AQH, share) and at every daypart boundary (cume, TSL). Only complete quarter
hours are rated: a partial quarter would understate AQH. ``close()`` rates the
quarter that ends exactly at the close and reports the daypart in progress (its
row says how many quarters it covers).

``fixed`` mode simulates nobody: every station has a constant audience. It is
the cheap baseline that benchmarks compare against.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import simpy
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Index

from economy.airplay import Aired, SegmentKind, SegmentStatus
from economy.ratings import cume, quarter_hour_credits, shares, tsl_hours
from sim.bus import EventBus
from sim.clock import QUARTER_HOUR_S, SimClock
from sim.events import Event, stored, table_of

STEP_S = 60.0
REPEAT_WINDOW_S = 3 * 3600.0
_NEG = np.float32(-1e9)  # utility of a station that cannot be chosen
_CHOICE_CELLS = 2_000_000  # listeners × stations evaluated at once when choosing
_CONTIGUOUS_S = 1.0  # segments closer than this form one ad break / one talk stretch

# Kinds of what is on air.
_NONE, _SONG, _TALK, _AD, _ID = 0, 1, 2, 3, 4
_KINDS = {
    SegmentKind.SONG: _SONG,
    SegmentKind.TALK: _TALK,
    SegmentKind.AD: _AD,
    SegmentKind.ID: _ID,
}

# Listener types: share of the population comes from the config; the chance of being
# able to listen (in the car, at the desk) by hour of day, 0-23.
_TYPES = ("commuter", "office", "evening", "night_owl")
# fmt: off
_AVAILABILITY: tuple[tuple[float, ...], ...] = (
    # commuters: morning and afternoon drive
    (0.02, 0.01, 0.01, 0.01, 0.03, 0.15, 0.50, 0.75, 0.75, 0.40, 0.20, 0.20,
     0.25, 0.20, 0.20, 0.40, 0.70, 0.75, 0.55, 0.25, 0.15, 0.10, 0.05, 0.03),
    # office: at the desk through the working day
    (0.02, 0.01, 0.01, 0.01, 0.02, 0.04, 0.15, 0.30, 0.40, 0.50, 0.55, 0.55,
     0.50, 0.55, 0.55, 0.50, 0.40, 0.25, 0.15, 0.10, 0.08, 0.05, 0.03, 0.02),
    # evening listeners
    (0.06, 0.03, 0.02, 0.01, 0.01, 0.02, 0.08, 0.15, 0.15, 0.10, 0.10, 0.12,
     0.15, 0.12, 0.12, 0.15, 0.20, 0.30, 0.45, 0.55, 0.60, 0.55, 0.40, 0.15),
    # night owls
    (0.40, 0.40, 0.35, 0.30, 0.20, 0.10, 0.05, 0.05, 0.05, 0.05, 0.08, 0.10,
     0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.12, 0.15, 0.20, 0.30, 0.35, 0.40),
)
# fmt: on


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


# -- configuration ----------------------------------------------------------------------
class AudienceConfig(BaseModel):
    """The listener population, as it appears under ``[audience]`` in a scenario."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    mode: Literal["simulated", "fixed"] = Field(
        "simulated",
        description="'simulated': a listener population; 'fixed': a constant audience per "
        "station (the cheap baseline).",
    )
    listeners: int = Field(
        20_000, ge=0, le=2_000_000, description="People in the market, shared by all stations."
    )
    fixed_aqh: int = Field(
        500, ge=0, le=2_000_000, description="AQH persons per station in fixed mode."
    )
    warm_start: bool = Field(
        True,
        description="Tune the population in at about its steady state on the first minute "
        "instead of starting from an empty market.",
    )
    commuter_share: float = Field(
        0.35, ge=0, le=1, description="Share of listeners who listen in morning/afternoon drive."
    )
    office_share: float = Field(
        0.30, ge=0, le=1, description="Share of listeners who listen at work, midday."
    )
    evening_share: float = Field(
        0.20, ge=0, le=1, description="Share of listeners who listen in the evening."
    )
    night_owl_share: float = Field(
        0.15, ge=0, le=1, description="Share of listeners who listen overnight."
    )
    tune_in_per_hour: float = Field(
        0.9,
        ge=0,
        le=60,
        description="Tune-ins per hour of an off listener at full availability; scaled by "
        "the listener type's availability this hour.",
    )
    tune_out_per_hour: float = Field(
        1.2,
        ge=0,
        le=60,
        description="Base tune-out rate per hour of a listener at full availability "
        "(before ads, taste, talk and repeats).",
    )
    availability_tune_out: float = Field(
        2.0,
        ge=0,
        le=100,
        description="Extra base tune-out at low availability: rate × (1 + this × (1 − "
        "availability / the type's peak availability)).",
    )
    switch_probability: float = Field(
        0.3, ge=0, le=1, description="Chance that a listener who tunes out switches station."
    )
    taste_concentration: float = Field(
        1.0,
        ge=0.01,
        le=100,
        description="Dirichlet concentration of genre tastes (smaller: narrower tastes); "
        "tastes are scaled so each listener's favourite genre matches 1.",
    )
    dislike_tune_out_per_min: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Tune-out chance per minute of a song in a genre the listener does not "
        "like at all; × (1 − taste match)².",
    )
    repeat_tune_out_per_min: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Extra tune-out chance per minute of a song the station aired in the last 3 h.",
    )
    talk_tolerance_min: float = Field(
        2.0,
        ge=0.1,
        le=600,
        description="Mean minutes of uninterrupted talk a listener tolerates (exponential "
        "across listeners).",
    )
    talk_tune_out_per_min: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Tune-out chance per minute once talk runs past the listener's tolerance.",
    )
    ad_retention: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [1.0, 0.99, 0.96, 0.92, 0.87, 0.85],
        min_length=1,
        max_length=60,
        description="Share of the audience still tuned in after 1, 2, … minutes of an ad "
        "break (docs/architecture.md); flat after the last value.",
    )
    ad_sensitivity_spread: float = Field(
        0.5,
        ge=0,
        le=3,
        description="Standard deviation across listeners of the ad tune-out multiplier "
        "(mean 1; gamma-distributed; 0 = everyone alike, else at least 0.01).",
    )
    ad_load_tune_out: float = Field(
        0.03,
        ge=0,
        le=1,
        description="Tune-out (all but the break's own) grows by this fraction per ad aired in "
        "the last hour; 0.03 makes +1 ad/hour ≈ −2 % listening, break tune-out included.",
    )
    taste_weight: float = Field(
        3.0,
        ge=0,
        le=20,
        description="Choice utility of a perfect taste match for the genre on air.",
    )
    loyalty_weight: float = Field(
        2.0, ge=0, le=20, description="Choice utility of the home station at full loyalty."
    )
    loyalty_mean: float = Field(
        0.3, gt=0, lt=1, description="Mean loyalty (beta-distributed, 0-1) to the home station."
    )
    ad_break_penalty: float = Field(
        1.5, ge=0, le=20, description="Choice utility lost by a station that is in an ad break."
    )
    off_utility: float = Field(
        0.0,
        ge=-20,
        le=20,
        description="Utility of staying off when tuning in, against the average station on "
        "air (so adding stations splits the audience rather than growing it).",
    )
    off_air_after_s: float = Field(
        120.0,
        ge=1,
        le=86_400,
        description="A station with nothing on air for this long loses its listeners and "
        "cannot be chosen.",
    )

    @field_validator("ad_retention")
    @classmethod
    def _retention_falls(cls, v: list[float]) -> list[float]:
        if any(not 0 < x <= 1 for x in v):
            raise ValueError("every ad_retention value must be in (0, 1]")
        if any(b > a for a, b in itertools.pairwise(v)):
            raise ValueError("ad_retention must not rise from one minute to the next")
        return v

    @field_validator("ad_sensitivity_spread")
    @classmethod
    def _spread_not_tiny(cls, v: float) -> float:
        """A tiny spread squares to 0 and the gamma shape 1/spread² overflows."""
        if 0 < v < 0.01:
            raise ValueError("use 0 (everyone alike) or at least 0.01")
        return v

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> AudienceConfig:
        total = self.commuter_share + self.office_share + self.evening_share
        total += self.night_owl_share
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                "commuter_share + office_share + evening_share + night_owl_share must be 1, "
                f"got {total:g}"
            )
        return self

    def type_shares(self) -> tuple[float, ...]:
        return (self.commuter_share, self.office_share, self.evening_share, self.night_owl_share)


# -- the population ---------------------------------------------------------------------
class Audience:
    """Listeners of every station, stepped each simulated minute; publishes ratings."""

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        cfg: AudienceConfig,
        stations: list[str],
        genres: Sequence[str],
        genre_of: Callable[[str], str | None],
        clock: SimClock,
        seed: int,
    ) -> None:
        self.env = env
        self.bus = bus
        self.cfg = cfg
        self.clock = clock
        self.stations = list(stations)
        self._index = {s: i for i, s in enumerate(self.stations)}
        self._genres = list(genres)
        self._gindex = {g: i for i, g in enumerate(self._genres)}
        self._genre_of = genre_of
        self._rng = np.random.default_rng(seed)
        self._t0 = float(env.now)
        self._closed = False
        n_s = len(self.stations)
        # rated quarters: (quarter start, aqh [S], share [S])
        self._quarters: list[tuple[float, NDArray[np.int64], NDArray[np.float64]]] = []
        # the daypart in progress: key (day, name), first quarter start, per-quarter aqh/keys
        self._dp_key: tuple[int, str] | None = None
        self._dp_start = 0.0
        self._dp_aqh: list[NDArray[np.int64]] = []
        self._dp_keys: list[NDArray[np.int64]] = []
        self._counts = np.zeros(n_s, dtype=np.int64)
        first = self.clock.seconds_to_next_quarter(self._t0)
        if cfg.mode == "fixed":
            self._next_t = self._t0 + first
            self._last_t = -math.inf
            env.process(self._run(QUARTER_HOUR_S))
            return
        self._next_t = self._t0 + (first % STEP_S or STEP_S)
        self._last_t = -math.inf
        self._init_population()
        self._init_stations()
        env.process(self._run(STEP_S))

    # -- set-up ---------------------------------------------------------------------------
    def _init_population(self) -> None:
        cfg, rng = self.cfg, self._rng
        n, n_s, n_g = cfg.listeners, len(self.stations), len(self._genres)
        shares_ = np.asarray(cfg.type_shares())
        self._type = rng.choice(len(_TYPES), size=n, p=shares_ / shares_.sum()).astype(np.int8)
        self._members = [np.flatnonzero(self._type == t).astype(np.int32) for t in range(4)]
        self._avail = np.asarray(_AVAILABILITY, dtype=np.float64)
        # Tastes: a Dirichlet draw scaled so the favourite genre matches 1. The extra last
        # column is an unknown genre (talk before any song, a song missing from the
        # catalog): a neutral 0.5.
        taste = np.full((n, n_g + 1), 0.5, dtype=np.float32)
        if n_g:
            d = rng.dirichlet(np.full(n_g, cfg.taste_concentration), size=n)
            taste[:, :n_g] = d / d.max(axis=1, keepdims=True)
        self._taste = taste
        self._taste_flat = taste.reshape(-1)
        self._n_cols = n_g + 1
        self._talk_tol = rng.exponential(cfg.talk_tolerance_min * 60.0, size=n).astype(np.float32)
        spread = cfg.ad_sensitivity_spread
        if spread > 0:
            k = 1.0 / spread**2  # gamma with mean 1, sd = spread
            self._ad_sens = rng.gamma(k, 1.0 / k, size=n).astype(np.float32)
        else:
            self._ad_sens = np.ones(n, dtype=np.float32)
        a = cfg.loyalty_mean * 4.0
        self._loyalty = (cfg.loyalty_weight * rng.beta(a, 4.0 - a, size=n)).astype(np.float32)
        self._home = rng.integers(0, max(n_s, 1), size=n).astype(np.int32)
        self._on = np.full(n, -1, dtype=np.int32)  # station index or -1
        self._since = np.zeros(n, dtype=np.float64)  # start of the current session
        self._listening = np.empty(0, dtype=np.int32)  # who is tuned in (any order)
        self._base_h = np.zeros(n, dtype=np.float32)  # base tune-out chance per minute
        self._hour = -1
        self._p_in = np.zeros(len(_TYPES))
        self._p_out = np.zeros(len(_TYPES))
        self._warm = cfg.warm_start
        # closed sessions of the quarter in progress (listener, station, start, end)
        self._closed_sessions: list[tuple[NDArray[Any], ...]] = []
        self._step_no = 0
        self._sat_step = -1
        self._sat = np.full(n_s, 0.5)

    def _init_stations(self) -> None:
        n_s = len(self.stations)
        n_g = len(self._genres)
        self._pending: list[tuple[float, float, int, int, int, str | None]] = []
        self._kind = np.zeros(n_s, dtype=np.int8)
        self._genre_now = np.full(n_s, n_g, dtype=np.intp)  # genre column of the song on
        self._format = np.full(n_s, n_g, dtype=np.intp)  # genre of the last song aired
        self._seg_end = np.full(n_s, -1e18)
        self._last_end = np.full(n_s, -1e18)  # latest end of any segment received
        self._break_start = np.full(n_s, -1e18)
        self._break_end = np.full(n_s, -1e18)
        self._talk_start = np.full(n_s, -1e18)
        self._repeat = np.zeros(n_s, dtype=bool)
        self._played: list[dict[str, float]] = [{} for _ in range(n_s)]
        self._new_ads = np.zeros(n_s, dtype=np.int32)
        self._ad_ring = np.zeros((60, n_s), dtype=np.int32)  # ads started, by minute
        self._ads_hour = np.zeros(n_s, dtype=np.int32)
        r = [1.0, *self.cfg.ad_retention]
        self._ret_x = np.arange(len(r), dtype=np.float64) * STEP_S
        self._ret_y = np.asarray(r, dtype=np.float64)
        self._station_state(self._t0, np.zeros(n_s, dtype=bool))

    # -- inputs ---------------------------------------------------------------------------
    def on_segment(self, seg: Aired) -> None:
        """Note an as-run segment; it takes effect at the first minute step from its start."""
        if self.cfg.mode == "fixed" or seg.status != SegmentStatus.AIRED:
            return
        i = self._index.get(seg.station)
        if i is None:
            return
        kind = _KINDS.get(seg.kind, _ID)
        g = len(self._genres)
        if kind == _SONG and seg.song_id is not None:
            name = self._genre_of(seg.song_id)
            g = self._gindex.get(name, g) if name is not None else g
        self._last_end[i] = max(self._last_end[i], seg.end_s)
        self._pending.append((seg.sim_time, seg.end_s, i, kind, g, seg.song_id))

    def _apply_pending(self, t: float) -> None:
        if not self._pending:
            return
        keep = []
        for item in self._pending:
            if item[0] <= t:
                self._apply(*item)
            else:
                keep.append(item)
        self._pending = keep

    def _apply(self, start: float, end: float, i: int, kind: int, g: int, song: str | None) -> None:
        contiguous = start <= self._seg_end[i] + _CONTIGUOUS_S
        prev = self._kind[i]
        if kind == _AD:
            if not (prev == _AD and contiguous):
                self._break_start[i] = start
            self._break_end[i] = max(self._break_end[i], end)
            self._new_ads[i] += 1
        elif kind == _TALK:
            if not (prev == _TALK and contiguous):
                self._talk_start[i] = start
        elif kind == _SONG:
            self._genre_now[i] = g
            if g < len(self._genres):
                self._format[i] = g
            repeat = False
            if song is not None:
                played = self._played[i]
                last = played.get(song)
                repeat = last is not None and start - last < REPEAT_WINDOW_S
                played[song] = start
            self._repeat[i] = repeat
        self._kind[i] = kind
        self._seg_end[i] = end

    # -- queries --------------------------------------------------------------------------
    def listeners_now(self, station: str) -> int:
        """Listeners tuned in at the last minute step."""
        if self.cfg.mode == "fixed":
            return self.cfg.fixed_aqh
        return int(self._counts[self._index[station]])

    def satisfaction(self, station: str) -> float:
        """Mean match, 0-1, of the current listeners with what is on (0.5 with nobody).

        Taste for the genre on air (or the station's last genre during talk, ads and
        IDs), halved for a repeat, × the ad-retention curve during a break, × tolerance
        over elapsed time for talk that runs long. As of the last minute step.
        """
        if self.cfg.mode == "fixed":
            return 0.5
        if self._sat_step != self._step_no:
            self._sat_step = self._step_no
            self._sat = self._satisfaction_all()
        return float(self._sat[self._index[station]])

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

    def close(self) -> None:
        """Rate the quarter that ends now (if due) and report the daypart in progress."""
        if self._closed:
            return
        now = float(self.env.now)
        if self._last_t < self._next_t <= now + 1e-9:
            self._tick(self._next_t)
        self._closed = True
        self._publish_daypart(now)

    # -- the minute process ---------------------------------------------------------------
    def _run(self, step_s: float) -> Generator[simpy.Event, Any, None]:
        while not self._closed:
            yield self.env.timeout(max(0.0, self._next_t - self.env.now))
            if self._closed:
                return
            self._tick(self._next_t)
            self._next_t += step_s

    def _tick(self, t: float) -> None:
        self._last_t = t
        if self.cfg.mode == "fixed":
            self._close_quarter_fixed(t)
            return
        self._step(t)
        if abs(self.clock.seconds_to_next_quarter(t) - QUARTER_HOUR_S) < 1e-6:
            self._close_quarter(t)

    def _step(self, t: float) -> None:
        self._step_no += 1
        self._apply_pending(t)
        ring = self._ad_ring[self._step_no % 60]
        self._ads_hour += self._new_ads - ring
        ring[:] = self._new_ads
        self._new_ads[:] = 0
        self._update_hour(t - STEP_S / 2)
        on_air = (t - self._last_end) <= self.cfg.off_air_after_s
        self._station_state(t, on_air)
        if self._warm:
            if self._n_on_air:
                self._warm = False
                self._warm_start(t)
        else:
            self._tune_out(t)
            self._tune_in(t)
        if len(self.stations):
            self._counts = np.bincount(
                self._on[self._listening], minlength=len(self.stations)
            ).astype(np.int64)

    def _update_hour(self, t: float) -> None:
        hour = self.clock.hour_of_day(t)
        if hour == self._hour:
            return
        self._hour = hour
        cfg = self.cfg
        avail = self._avail[:, hour]
        rel = avail / self._avail.max(axis=1)
        self._p_in = 1.0 - np.exp(-cfg.tune_in_per_hour / 60.0 * avail)
        rate = cfg.tune_out_per_hour / 60.0 * (1.0 + cfg.availability_tune_out * (1.0 - rel))
        self._p_out = 1.0 - np.exp(-rate)
        self._base_h = self._p_out.astype(np.float32)[self._type]

    def _gumbel(self, shape: tuple[int, ...]) -> NDArray[np.float32]:
        u = self._rng.random(shape, dtype=np.float32)
        with np.errstate(divide="ignore"):
            return -np.log(-np.log(u))

    def _choose(
        self,
        who: NDArray[np.int32],
        *,
        allow_off: bool,
        exclude: NDArray[np.int32] | None = None,
    ) -> NDArray[np.int32]:
        """Station index per listener (-1: stays off), multinomial logit by Gumbel-max.

        Utility: taste for the station's genre, loyalty to the home station, minus the
        ad-break penalty; stations off air cannot be chosen. Staying off competes with
        the average station on air: its utility is ``off_utility + ln(stations on air)``,
        so P(off) = e^off / (e^off + mean e^V). Works in blocks to bound memory.
        """
        out = np.full(len(who), -1, dtype=np.int32)
        if self._n_on_air == 0:
            return out
        block = max(1, _CHOICE_CELLS // max(1, len(self.stations)))
        for lo in range(0, len(who), block):
            ex = None if exclude is None else exclude[lo : lo + block]
            out[lo : lo + block] = self._choose_block(who[lo : lo + block], allow_off, ex)
        return out

    def _choose_block(
        self, who: NDArray[np.int32], allow_off: bool, exclude: NDArray[np.int32] | None
    ) -> NDArray[np.int32]:
        k = len(who)
        rows = np.arange(k)
        v = self._taste[who][:, self._format]  # [K, S]: taste for each station's genre
        v *= np.float32(self.cfg.taste_weight)
        v += self._utility
        v[rows, self._home[who]] += self._loyalty[who]
        if exclude is not None:
            v[rows, exclude] = _NEG
        v += self._gumbel(v.shape)
        choice = v.argmax(axis=1).astype(np.int32)
        best = v[rows, choice]
        ok = best > _NEG / 2
        if allow_off:
            off = self.cfg.off_utility + math.log(self._n_on_air) + self._gumbel((k,))
            ok &= best > off
        return np.where(ok, choice, np.int32(-1)).astype(np.int32)

    def _warm_start(self, t: float) -> None:
        """Tune in each type's steady-state share at once (tune-in / (tune-in + tune-out))."""
        p_in, p_out = self._p_in, self._p_out
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(p_in > 0, p_in / (p_in + p_out), 0.0)
        who = np.flatnonzero(self._rng.random(len(self._type)) < frac[self._type])
        who = who.astype(np.int32)
        choice = self._choose(who, allow_off=False)
        self._start_sessions(t, who, choice)

    def _start_sessions(self, t: float, who: NDArray[np.int32], choice: NDArray[np.int32]) -> None:
        ok = choice >= 0
        who, choice = who[ok], choice[ok]
        self._on[who] = choice
        self._since[who] = t
        self._listening = np.concatenate([self._listening, who])

    def _station_state(self, t: float, on_air: NDArray[np.bool_]) -> None:
        """S-wide parts of this minute's hazards and satisfaction."""
        cfg = self.cfg
        playing = self._seg_end > t
        song = (self._kind == _SONG) & playing
        talk = (self._kind == _TALK) & playing
        repeat = song & self._repeat
        self._mult = (1.0 + cfg.ad_load_tune_out * self._ads_hour).astype(np.float32)
        self._repeat_h = np.where(repeat, cfg.repeat_tune_out_per_min, 0.0).astype(np.float32)
        self._gone = np.where(on_air, 0.0, 1.0).astype(np.float32)  # off air: everyone leaves
        in_break = (self._kind == _AD) & playing
        utility = np.where(in_break, -cfg.ad_break_penalty, 0.0).astype(np.float32)
        utility[~on_air] = _NEG
        self._utility = utility  # the station part of every listener's choice utility
        self._n_on_air = int(on_air.sum())
        self._dislike = np.where(song, cfg.dislike_tune_out_per_min, 0.0).astype(np.float32)
        self._ad = self._ad_hazard(t)
        self._genre = np.where(song, self._genre_now, self._format)
        self._talking = bool(talk.any())
        self._talk_el = np.where(talk, t - self._talk_start, -1.0).astype(np.float32)
        factor = np.where(repeat, 0.5, 1.0)
        factor *= np.where(self._ad > 0, self._retention(t - self._break_start), 1.0)
        self._sat_factor = factor.astype(np.float32)

    def _tune_out(self, t: float) -> None:
        lis = self._listening
        m = len(lis)
        if m == 0:
            return
        cfg = self.cfg
        st = self._on[lis]
        taste_now = self._taste_flat[lis * self._n_cols + self._genre[st]]
        # (base + dislike + repeat + long talk) × ad load, then the break and dead air.
        miss = 1.0 - taste_now
        h = self._dislike[st] * miss * miss
        h += self._base_h[lis]
        h += self._repeat_h[st]
        if self._talking and cfg.talk_tune_out_per_min > 0:
            over = self._talk_el[st] > self._talk_tol[lis]
            h += np.where(over, np.float32(cfg.talk_tune_out_per_min), np.float32(0.0))
        h *= self._mult[st]
        h += self._gone[st]
        if self._ad.any():
            h += self._ad[st] * self._ad_sens[lis]
        leave = self._rng.random(m, dtype=np.float32) < h
        if not leave.any():
            return
        gone, gone_st = lis[leave], st[leave]
        self._closed_sessions.append((gone, gone_st, self._since[gone], np.full(len(gone), t)))
        self._listening = lis[~leave]
        self._on[gone] = -1
        switch = self._rng.random(len(gone)) < cfg.switch_probability
        movers = gone[switch]
        if len(movers):
            choice = self._choose(movers, allow_off=False, exclude=gone_st[switch])
            self._start_sessions(t, movers, choice)

    def _tune_in(self, t: float) -> None:
        rng = self._rng
        picks = []
        for ty, members in enumerate(self._members):
            n = len(members)
            k = rng.binomial(n, self._p_in[ty]) if n else 0
            if k:
                picks.append(members[rng.integers(0, n, size=k)])
        if not picks:
            return
        who = np.unique(np.concatenate(picks))
        who = who[self._on[who] < 0]
        choice = self._choose(who, allow_off=True)
        self._start_sessions(t, who, choice)

    def _retention(self, elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.interp(elapsed_s, self._ret_x, self._ret_y)

    def _ad_hazard(self, t: float) -> NDArray[np.float32]:
        """Per station: chance to leave over the last minute from the ad break's retention curve.

        Exposure is the part of the break inside (t - 60, t]; the chance is
        1 − R(exposure end) / R(exposure start), so a population that sits through a
        break follows the retention curve minute by minute.
        """
        e1 = np.minimum(t, self._break_end) - self._break_start
        e0 = np.maximum(t - STEP_S - self._break_start, 0.0)
        live = e1 > e0
        if not live.any():
            return np.zeros(len(self.stations), dtype=np.float32)
        h = 1.0 - self._retention(e1) / self._retention(e0)
        return np.where(live, h, 0.0).astype(np.float32)

    def _satisfaction_all(self) -> NDArray[np.float64]:
        n_s = len(self.stations)
        lis = self._listening
        if n_s == 0 or len(lis) == 0:
            return np.full(n_s, 0.5)
        st = self._on[lis]
        match = self._taste_flat[lis * self._n_cols + self._genre[st]]
        match *= self._sat_factor[st]
        el = self._talk_el[st]
        long_talk = el > self._talk_tol[lis]
        if long_talk.any():
            match = np.where(long_talk, match * self._talk_tol[lis] / np.maximum(el, 1.0), match)
        total = np.bincount(st, weights=match, minlength=n_s)
        counts = np.bincount(st, minlength=n_s)
        return np.where(counts > 0, total / np.maximum(counts, 1), 0.5)

    # -- ratings --------------------------------------------------------------------------
    def _close_quarter(self, t: float) -> None:
        q0 = t - QUARTER_HOUR_S
        closed = self._closed_sessions
        self._closed_sessions = []
        if q0 < self._t0 - 1e-9:
            return  # the first, partial quarter is not rated
        lis = self._listening
        parts = [*closed, (lis, self._on[lis], self._since[lis], np.full(len(lis), t))]
        listener = np.concatenate([p[0] for p in parts])
        station = np.concatenate([p[1] for p in parts])
        start = np.concatenate([p[2] for p in parts])
        end = np.concatenate([p[3] for p in parts])
        aqh, keys = quarter_hour_credits(listener, station, start, end, q0, t, len(self.stations))
        self._rate(q0, aqh, keys, self._counts)

    def _close_quarter_fixed(self, t: float) -> None:
        q0 = t - QUARTER_HOUR_S
        if q0 < self._t0 - 1e-9:
            return
        n_s = len(self.stations)
        aqh = np.full(n_s, self.cfg.fixed_aqh, dtype=np.int64)
        self._rate(q0, aqh, None, aqh)

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
        if keys is not None:
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
        if self.cfg.mode == "fixed":
            c = np.full(n_s, self.cfg.fixed_aqh, dtype=np.int64)
        else:
            c = cume(self._dp_keys, n_s)
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
