"""What each station has on air, as the simulated listeners hear it.

Fed the as-run log (``on_segment``); a segment takes effect at the first minute step
from its start (``advance``). Per station it keeps the kind of segment on, the genre of
the song on and of the last song aired (the station's format), the ad break and the
talk stretch in progress (segments less than a second apart run together), whether
the song on was aired in the last 3 hours, the ads aired in the last hour and when the
station last had anything on air. ``update`` turns that into the station-wide parts of
the minute's tune-out hazards, choice utilities and satisfaction (S values each) that
:mod:`economy.audience.simulated` combines with each listener's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from economy.airplay import Aired, SegmentKind, SegmentStatus

if TYPE_CHECKING:
    from economy.audience.config import AudienceConfig

STEP_S = 60.0
REPEAT_WINDOW_S = 3 * 3600.0
NEG = np.float32(-1e9)  # utility of a station that cannot be chosen
_CONTIGUOUS_S = 1.0  # segments closer than this form one ad break / one talk stretch

# Kinds of what is on air.
_NONE, _SONG, _TALK, _AD, _ID = 0, 1, 2, 3, 4
_KINDS = {
    SegmentKind.SONG: _SONG,
    SegmentKind.TALK: _TALK,
    SegmentKind.AD: _AD,
    SegmentKind.ID: _ID,
}


class OnAir:
    """The stations' side of the simulated audience, stepped once a simulated minute."""

    def __init__(
        self,
        cfg: AudienceConfig,
        stations: Sequence[str],
        genres: Sequence[str],
        genre_of: Callable[[str], str | None],
        t0: float,
    ) -> None:
        self.cfg = cfg
        self._index = {s: i for i, s in enumerate(stations)}
        n_s = len(stations)
        self._n_stations = n_s
        n_g = len(genres)
        self._n_genres = n_g
        self._gindex = {g: i for i, g in enumerate(genres)}
        self._genre_of = genre_of
        self._minute = 0
        self._pending: list[tuple[float, float, int, int, int, str | None]] = []
        self._kind = np.zeros(n_s, dtype=np.int8)
        self._genre_now = np.full(n_s, n_g, dtype=np.intp)  # genre column of the song on
        self.format = np.full(n_s, n_g, dtype=np.intp)  # genre of the last song aired
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
        r = [1.0, *cfg.ad_retention]
        self._ret_x = np.arange(len(r), dtype=np.float64) * STEP_S
        self._ret_y = np.asarray(r, dtype=np.float64)
        # The minute's station-wide parts, set by update().
        self.mult = np.ones(n_s, dtype=np.float32)  # tune-out × ad load
        self.repeat_h = np.zeros(n_s, dtype=np.float32)  # tune-out for a repeated song
        self.gone = np.zeros(n_s, dtype=np.float32)  # 1 when off air: everyone leaves
        self.utility = np.zeros(n_s, dtype=np.float32)  # the station part of choice utility
        self.n_on_air = 0
        self.dislike = np.zeros(n_s, dtype=np.float32)  # tune-out at no taste match
        self.ad = np.zeros(n_s, dtype=np.float32)  # the ad break's tune-out this minute
        self.genre = np.full(n_s, n_g, dtype=np.intp)  # taste column heard now
        self.talking = False  # any station in talk
        self.talk_el = np.full(n_s, -1.0, dtype=np.float32)  # seconds of talk so far, or -1
        self.sat_factor = np.ones(n_s, dtype=np.float32)  # satisfaction × repeat, break
        self._state(t0, np.zeros(n_s, dtype=bool))

    # -- inputs ---------------------------------------------------------------------------
    def on_segment(self, seg: Aired) -> None:
        """Note an as-run segment; it takes effect at the first minute step from its start."""
        if seg.status != SegmentStatus.AIRED:
            return
        i = self._index.get(seg.station)
        if i is None:
            return
        kind = _KINDS.get(seg.kind, _ID)
        g = self._n_genres
        if kind == _SONG and seg.song_id is not None:
            name = self._genre_of(seg.song_id)
            g = self._gindex.get(name, g) if name is not None else g
        self._last_end[i] = max(self._last_end[i], seg.end_s)
        self._pending.append((seg.sim_time, seg.end_s, i, kind, g, seg.song_id))

    # -- the minute step ------------------------------------------------------------------
    def advance(self, t: float) -> None:
        """Apply the segments that started by ``t``; count this minute's ads into the hour."""
        self._minute += 1
        self._apply_pending(t)
        ring = self._ad_ring[self._minute % 60]
        self._ads_hour += self._new_ads - ring
        ring[:] = self._new_ads
        self._new_ads[:] = 0

    def update(self, t: float) -> None:
        """The station-wide parts of the minute that ends at ``t``."""
        self._state(t, (t - self._last_end) <= self.cfg.off_air_after_s)

    def retention(self, elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Share of a break's audience left after ``elapsed_s`` seconds of the break."""
        return np.interp(elapsed_s, self._ret_x, self._ret_y)

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
            if g < self._n_genres:
                self.format[i] = g
            repeat = False
            if song is not None:
                played = self._played[i]
                last = played.get(song)
                repeat = last is not None and start - last < REPEAT_WINDOW_S
                played[song] = start
            self._repeat[i] = repeat
        self._kind[i] = kind
        self._seg_end[i] = end

    def _state(self, t: float, on_air: NDArray[np.bool_]) -> None:
        """S-wide parts of this minute's hazards and satisfaction."""
        cfg = self.cfg
        playing = self._seg_end > t
        song = (self._kind == _SONG) & playing
        talk = (self._kind == _TALK) & playing
        repeat = song & self._repeat
        self.mult = (1.0 + cfg.ad_load_tune_out * self._ads_hour).astype(np.float32)
        self.repeat_h = np.where(repeat, cfg.repeat_tune_out_per_min, 0.0).astype(np.float32)
        self.gone = np.where(on_air, 0.0, 1.0).astype(np.float32)  # off air: everyone leaves
        in_break = (self._kind == _AD) & playing
        utility = np.where(in_break, -cfg.ad_break_penalty, 0.0).astype(np.float32)
        utility[~on_air] = NEG
        self.utility = utility  # the station part of every listener's choice utility
        self.n_on_air = int(on_air.sum())
        self.dislike = np.where(song, cfg.dislike_tune_out_per_min, 0.0).astype(np.float32)
        self.ad = self._ad_hazard(t)
        self.genre = np.where(song, self._genre_now, self.format)
        self.talking = bool(talk.any())
        self.talk_el = np.where(talk, t - self._talk_start, -1.0).astype(np.float32)
        factor = np.where(repeat, 0.5, 1.0)
        factor *= np.where(self.ad > 0, self.retention(t - self._break_start), 1.0)
        self.sat_factor = factor.astype(np.float32)

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
            return np.zeros(self._n_stations, dtype=np.float32)
        h = 1.0 - self.retention(e1) / self.retention(e0)
        return np.where(live, h, 0.0).astype(np.float32)
