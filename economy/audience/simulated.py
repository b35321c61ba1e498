"""The simulated audience: one listener population shared by every station.

N listeners live in flat numpy arrays, stepped once a simulated minute. Each
listener has genre tastes, a type with an hourly availability curve (commuters,
office, evening, night owls), a talk tolerance, an ad sensitivity and a loyalty to a
home station. Every minute:

- listeners who are tuned in leave with a hazard that rises with minutes into an
  ad break (calibrated to docs/architecture.md's commercial tune-out: 100/99/96/92/87/85 %
  of the audience left after 1-6 minutes of a break), a repeated song, a genre
  they dislike, talk running past their tolerance, low availability this hour
  and the station's ad load (+1 ad/hour ≈ -2 % listening); some switch to
  another station instead of going off;
- a few off listeners tune in (at a rate set by their availability this hour)
  and pick a station or stay off by a multinomial logit (Gumbel-max): taste for
  the station's genre, loyalty to their home station, a penalty for an ad break.

What the stations have on air, and its station-wide effects, is kept by
:class:`~economy.audience.on_air.OnAir`. Only the listening subset and the few
listeners tuning in each minute are touched, so a step costs O(listening + tuners ×
stations), not O(N × S). Every listening session that ends is fed to the
:class:`~economy.ratings_book.RatingsBook`, and at every wall-clock quarter hour the
sessions still open, so the book rates it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from economy.audience.base import Rated
from economy.audience.on_air import NEG, STEP_S, OnAir
from sim.clock import QUARTER_HOUR_S

if TYPE_CHECKING:
    from economy.airplay import Aired
    from economy.audience.config import AudienceConfig
    from sim.clock import SimClock

_CHOICE_CELLS = 2_000_000  # listeners × stations evaluated at once when choosing

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


class SimulatedAudience(Rated):
    """Listeners of every station, stepped each simulated minute; rated by a RatingsBook."""

    def _start(
        self,
        cfg: AudienceConfig,
        genres: Sequence[str],
        genre_of: Callable[[str], str | None],
        clock: SimClock,
        seed: int,
    ) -> tuple[float, float]:
        """Draw the population; the first step is on the minute grid of the quarter hours."""
        self.cfg = cfg
        self.clock = clock
        self.population = cfg.listeners
        self._index = {s: i for i, s in enumerate(self.stations)}
        self._genres = list(genres)
        self._rng = np.random.default_rng(seed)
        self._counts = np.zeros(len(self.stations), dtype=np.int64)
        self._init_population()
        self._air = OnAir(cfg, self.stations, self._genres, genre_of, self._t0)
        first = self.clock.seconds_to_next_quarter(self._t0)
        return self._t0 + (first % STEP_S or STEP_S), STEP_S

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
        self._step_no = 0
        self._sat_step = -1
        self._sat = np.full(n_s, 0.5)

    # -- the Audience protocol ------------------------------------------------------------
    def on_segment(self, seg: Aired) -> None:
        """Note an as-run segment; it takes effect at the first minute step from its start."""
        self._air.on_segment(seg)

    def listeners_now(self, station: str) -> int:
        """Listeners tuned in at the last minute step."""
        return int(self._counts[self._index[station]])

    def satisfaction(self, station: str) -> float:
        """Mean match, 0-1, of the current listeners with what is on (0.5 with nobody).

        Taste for the genre on air (or the station's last genre during talk, ads and
        IDs), halved for a repeat, × the ad-retention curve during a break, × tolerance
        over elapsed time for talk that runs long. As of the last minute step.
        """
        if self._sat_step != self._step_no:
            self._sat_step = self._step_no
            self._sat = self._satisfaction_all()
        return float(self._sat[self._index[station]])

    # -- the minute step ------------------------------------------------------------------
    def _tick(self, t: float) -> None:
        self._step(t)
        if abs(self.clock.seconds_to_next_quarter(t) - QUARTER_HOUR_S) < 1e-6:
            lis = self._listening  # sessions still open count up to the quarter's end
            self._book.add(lis, self._on[lis], self._since[lis], np.full(len(lis), t))
            self._book.close_quarter(t, self._counts)

    def _step(self, t: float) -> None:
        self._step_no += 1
        air = self._air
        air.advance(t)
        self._update_hour(t - STEP_S / 2)
        air.update(t)
        if self._warm:
            if air.n_on_air:
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
        if self._air.n_on_air == 0:
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
        air = self._air
        v = self._taste[who][:, air.format]  # [K, S]: taste for each station's genre
        v *= np.float32(self.cfg.taste_weight)
        v += air.utility
        v[rows, self._home[who]] += self._loyalty[who]
        if exclude is not None:
            v[rows, exclude] = NEG
        v += self._gumbel(v.shape)
        choice = v.argmax(axis=1).astype(np.int32)
        best = v[rows, choice]
        ok = best > NEG / 2
        if allow_off:
            off = self.cfg.off_utility + math.log(air.n_on_air) + self._gumbel((k,))
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

    def _tune_out(self, t: float) -> None:
        lis = self._listening
        m = len(lis)
        if m == 0:
            return
        cfg, air = self.cfg, self._air
        st = self._on[lis]
        taste_now = self._taste_flat[lis * self._n_cols + air.genre[st]]
        # (base + dislike + repeat + long talk) × ad load, then the break and dead air.
        miss = 1.0 - taste_now
        h = air.dislike[st] * miss * miss
        h += self._base_h[lis]
        h += air.repeat_h[st]
        if air.talking and cfg.talk_tune_out_per_min > 0:
            over = air.talk_el[st] > self._talk_tol[lis]
            h += np.where(over, np.float32(cfg.talk_tune_out_per_min), np.float32(0.0))
        h *= air.mult[st]
        h += air.gone[st]
        if air.ad.any():
            h += air.ad[st] * self._ad_sens[lis]
        leave = self._rng.random(m, dtype=np.float32) < h
        if not leave.any():
            return
        gone, gone_st = lis[leave], st[leave]
        self._book.add(gone, gone_st, self._since[gone], np.full(len(gone), t))
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

    def _satisfaction_all(self) -> NDArray[np.float64]:
        n_s = len(self.stations)
        lis = self._listening
        if n_s == 0 or len(lis) == 0:
            return np.full(n_s, 0.5)
        air = self._air
        st = self._on[lis]
        match = self._taste_flat[lis * self._n_cols + air.genre[st]]
        match *= air.sat_factor[st]
        el = air.talk_el[st]
        long_talk = el > self._talk_tol[lis]
        if long_talk.any():
            match = np.where(long_talk, match * self._talk_tol[lis] / np.maximum(el, 1.0), match)
        total = np.bincount(st, weights=match, minlength=n_s)
        counts = np.bincount(st, minlength=n_s)
        return np.where(counts > 0, total / np.maximum(counts, 1), 0.5)
