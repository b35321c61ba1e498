"""Programming rules: song separation, the 3-hour caps, and rotation.

Checks are O(1) per candidate: the history keeps last-played times and the
counts inside the sliding 3-hour window.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from economy.airplay import SegmentSource
from economy.catalog import Song

WEEK_S = 7 * 24 * 3600.0


class RulesConfig(BaseModel):
    """Defaults: AzuraCast separation and the US webcaster (DMCA) caps."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    title_separation_s: float = Field(
        7200, ge=0, le=WEEK_S, description="Least time between two plays of one song."
    )
    artist_separation_s: float = Field(
        3600, ge=0, le=WEEK_S, description="Least time between two songs by one artist."
    )
    window_s: float = Field(
        10800, gt=0, le=WEEK_S, description="The sliding window the caps count in."
    )
    max_album_in_window: int = Field(
        3, ge=1, le=1000, description="Most songs from one album in the window."
    )
    max_album_in_row: int = Field(
        2, ge=1, le=100, description="Most songs from one album in a row."
    )
    max_artist_in_window: int = Field(
        4, ge=1, le=1000, description="Most songs by one artist in the window."
    )
    max_artist_in_row: int = Field(
        3, ge=1, le=100, description="Most songs by one artist in a row."
    )


class PlayHistory:
    def __init__(self, rules: RulesConfig) -> None:
        self.rules = rules
        self.last_title: dict[str, float] = {}
        self.last_artist: dict[str, float] = {}
        self._window: deque[tuple[float, Song]] = deque()
        self._artist_count: Counter[str] = Counter()
        self._album_count: Counter[tuple[str, str]] = Counter()
        self._recent: deque[tuple[float, Song]] = deque(
            maxlen=max(rules.max_album_in_row, rules.max_artist_in_row)
        )

    def record(self, song: Song, start_s: float) -> None:
        self.last_title[song.id] = start_s
        self.last_artist[song.artist] = start_s
        self._window.append((start_s, song))
        self._artist_count[song.artist] += 1
        self._album_count[(song.artist, song.album)] += 1
        self._recent.append((start_s, song))

    def _expire(self, now_s: float) -> None:
        horizon = now_s - self.rules.window_s
        while self._window and self._window[0][0] <= horizon:
            _, old = self._window.popleft()
            self._artist_count[old.artist] -= 1
            self._album_count[(old.artist, old.album)] -= 1

    def violation(self, song: Song, at_s: float) -> str | None:
        """Why ``song`` may not start at ``at_s``, or None if it may."""
        r = self.rules
        self._expire(at_s)
        last = self.last_title.get(song.id)
        if last is not None and at_s - last < r.title_separation_s:
            return f"title played {int(at_s - last)}s ago (< {int(r.title_separation_s)}s)"
        last = self.last_artist.get(song.artist)
        if last is not None and at_s - last < r.artist_separation_s:
            return f"artist played {int(at_s - last)}s ago (< {int(r.artist_separation_s)}s)"
        if self._artist_count[song.artist] >= r.max_artist_in_window:
            return f"artist cap: {r.max_artist_in_window} in {int(r.window_s)}s"
        if self._album_count[(song.artist, song.album)] >= r.max_album_in_window:
            return f"album cap: {r.max_album_in_window} in {int(r.window_s)}s"
        horizon = at_s - r.window_s
        if (
            _run_length(self._recent, horizon, lambda s: s.artist == song.artist)
            >= r.max_artist_in_row
        ):
            return f"artist {r.max_artist_in_row} in a row"
        if (
            _run_length(
                self._recent, horizon, lambda s: (s.artist, s.album) == (song.artist, song.album)
            )
            >= r.max_album_in_row
        ):
            return f"album {r.max_album_in_row} in a row"
        return None

    def rotation_order(
        self, library: Iterable[Song], at_s: float, rng: random.Random, limit: int | None = None
    ) -> list[Song]:
        """Up to ``limit`` songs that may air at ``at_s``: never played first, then least
        recently played, ties broken by ``rng``."""
        salt = rng.getrandbits(32)
        last = self.last_title
        never = float("-inf")
        songs = sorted(library, key=lambda s: (last.get(s.id, never), _id_hash(s.id) ^ salt))
        out: list[Song] = []
        for song in songs:
            if self.violation(song, at_s) is None:
                out.append(song)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def pick(
        self, library: Iterable[Song], at_s: float, rng: random.Random
    ) -> tuple[Song, SegmentSource]:
        """(song, source): a rotation pick, or the least recently played as a fallback."""
        songs = list(library)
        if not songs:
            raise ValueError("empty library")
        order = self.rotation_order(songs, at_s, rng, limit=1)
        if order:
            return order[0], SegmentSource.ROTATION
        least_recent = min(songs, key=lambda s: (self.last_title.get(s.id, float("-inf")), s.id))
        return least_recent, SegmentSource.FALLBACK


@cache
def _id_hash(song_id: str) -> int:
    """A stable 32-bit hash (``hash()`` of a str changes from process to process)."""
    return zlib.crc32(song_id.encode())


def _run_length(
    recent: deque[tuple[float, Song]], horizon: float, same: Callable[[Song], bool]
) -> int:
    """How many of the latest plays (inside the window) in a row satisfy ``same``."""
    n = 0
    for t, s in reversed(recent):
        if t <= horizon or not same(s):
            break
        n += 1
    return n
