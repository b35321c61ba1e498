"""The bundled music catalog (``economy/data/catalog.csv``): real songs, with durations."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(slots=True, frozen=True)
class Song:
    id: str
    title: str
    artist: str
    album: str
    year: int
    genre: str
    duration_s: int

    def label(self) -> str:
        return f"{self.title} - {self.artist}"


class Catalog:
    def __init__(self, songs: Iterable[Song]) -> None:
        self.songs: tuple[Song, ...] = tuple(songs)
        self.by_id: dict[str, Song] = {s.id: s for s in self.songs}
        if len(self.by_id) != len(self.songs):
            raise ValueError("catalog has duplicate song ids")
        self.genres: tuple[str, ...] = tuple(sorted({s.genre for s in self.songs}))
        self._by_genre: dict[str, list[Song]] = {g: [] for g in self.genres}
        for s in self.songs:
            self._by_genre[s.genre].append(s)
        self._haystack = [(f"{s.artist}\n{s.title}\n{s.album}".lower(), s) for s in self.songs]

    def __len__(self) -> int:
        return len(self.songs)

    def __iter__(self) -> Iterator[Song]:
        return iter(self.songs)

    def get(self, song_id: str) -> Song | None:
        return self.by_id.get(song_id)

    def in_genre(self, genre: str) -> list[Song]:
        return self._by_genre[genre]

    def search(self, query: str, limit: int = 8) -> list[Song]:
        """Songs whose genre, artist, title or album contains ``query`` (case-insensitive)."""
        q = query.strip().lower()
        if not q:
            return []
        if q in self._by_genre:
            return self._by_genre[q][:limit]
        hits: list[Song] = []
        for text, song in self._haystack:
            if q in text:
                hits.append(song)
                if len(hits) >= limit:
                    break
        return hits


@cache
def bundled_catalog() -> Catalog:
    text = resources.files("economy").joinpath("data/catalog.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return Catalog(
        Song(
            id=r["id"],
            title=r["title"],
            artist=r["artist"],
            album=r["album"],
            year=int(r["year"]),
            genre=r["genre"],
            duration_s=int(r["duration_s"]),
        )
        for r in rows
    )
