"""Who owns which songs: a free starter library, then purchases paid through the ledger."""

from __future__ import annotations

import random

from economy.catalog import Catalog, Song
from economy.ledger import Ledger


class Licenses:
    def __init__(self, catalog: Catalog, ledger: Ledger, song_price_cents: int) -> None:
        self.catalog = catalog
        self.ledger = ledger
        self.song_price_cents = song_price_cents
        self._owned: dict[str, dict[str, Song]] = {}

    def grant_starter_library(self, station: str, size: int, rng: random.Random) -> None:
        """A random but reproducible starter library of ``size`` songs."""
        picks = rng.sample(self.catalog.songs, min(size, len(self.catalog)))
        self._owned[station] = {s.id: s for s in sorted(picks, key=lambda s: s.id)}

    def library(self, station: str) -> dict[str, Song]:
        return self._owned[station]

    def owns(self, station: str, song_id: str) -> bool:
        return song_id in self._owned[station]

    def buy(self, station: str, song_id: str) -> str | None:
        """Buy a song; return None on success or the reason it was refused."""
        song = self.catalog.get(song_id)
        if song is None:
            return f"no song {song_id!r} in the catalog"
        if self.owns(station, song_id):
            return f"already owns {song_id}"
        if not self.ledger.spend(
            station, self.song_price_cents, "song_purchase", "catalog", song_id
        ):
            return f"cannot afford {song_id} (balance {self.ledger.balance(station)}c)"
        self._owned[station][song_id] = song
        return None
