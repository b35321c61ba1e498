"""Seeded random streams: every random choice in a run comes from one of these.

A stream is named (``"station", "KAAA", "rotation"``) and its seed is derived
from the run seed and the name by hashing, so adding a new stream never shifts
the numbers another stream produces.
"""

from __future__ import annotations

import hashlib
import random

# Seeds are stored in 64-bit signed integer columns (SQLite, PostgreSQL BIGINT) and
# passed to samplers that take an int64, so a seed a user gives must fit in 63 bits.
MAX_SEED = 2**63 - 1


def derive_seed(seed: int, *names: object) -> int:
    """A 63-bit seed unique to (seed, names)."""
    key = "/".join([str(seed), *map(str, names)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> 1


class RngStreams:
    """Factory of independent, reproducible ``random.Random`` streams."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def stream(self, *names: object) -> random.Random:
        return random.Random(derive_seed(self.seed, *names))

    def child_seed(self, *names: object) -> int:
        """A plain integer seed, for libraries that take one (e.g. a model sampler)."""
        return derive_seed(self.seed, *names) & 0x7FFFFFFF
