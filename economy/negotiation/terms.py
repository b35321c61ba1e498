"""The terms of a sponsorship deal: price (per spot or CPM), spots a day, days, dayparts, an
up-front fee and the ad copy. ``Terms`` validate themselves, round-trip through canonical JSON
(as stored in ``negotiations.terms_json``) and describe themselves in one human line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Final

PRICINGS: Final = ("per_spot", "cpm")

# A price above this is a typo or a model hallucination, not a negotiating position.
MAX_PRICE_CENTS: Final = 10_000_000  # $100,000


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


@dataclass(frozen=True, slots=True)
class Terms:
    """A sponsorship proposal. ``price_cents`` is per spot, or per 1000 impressions for cpm."""

    price_cents: int
    pricing: str = "per_spot"
    spots_per_day: int = 2
    days: int = 7
    dayparts: tuple[str, ...] = ()  # empty: any daypart
    upfront_fee_cents: int = 0  # the station pays the sponsor this on signing (scams ask)
    copy: str = ""  # the ad script; names the sponsor

    def __post_init__(self) -> None:
        if not isinstance(self.dayparts, tuple):  # e.g. a list from JSON
            object.__setattr__(self, "dayparts", tuple(self.dayparts))
        if self.pricing not in PRICINGS:
            raise ValueError(f"pricing must be one of {PRICINGS}, got {self.pricing!r}")
        if not_int(self.price_cents) or self.price_cents <= 0:
            raise ValueError(f"price_cents must be a positive int, got {self.price_cents!r}")
        if not_int(self.spots_per_day) or self.spots_per_day <= 0:
            raise ValueError(f"spots_per_day must be a positive int, got {self.spots_per_day!r}")
        if not_int(self.days) or self.days <= 0:
            raise ValueError(f"days must be a positive int, got {self.days!r}")
        if not_int(self.upfront_fee_cents) or self.upfront_fee_cents < 0:
            raise ValueError(f"upfront_fee_cents must be >= 0, got {self.upfront_fee_cents!r}")

    def with_price(self, cents: int) -> Terms:
        return replace(self, price_cents=cents)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): equal terms give equal strings."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Terms:
        return cls(**json.loads(text))

    def describe(self) -> str:
        """One human line, e.g. "3 spots/day for 7 days, morning drive, $0.80 per spot"."""
        spots = f"{self.spots_per_day} spot{'s' if self.spots_per_day != 1 else ''}/day"
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        where = " or ".join(d.replace("_", " ") for d in self.dayparts) or "any daypart"
        unit = "per spot" if self.pricing == "per_spot" else "per 1000 impressions (CPM)"
        parts = [f"{spots} for {days}", where, f"{format_cents(self.price_cents)} {unit}"]
        if self.upfront_fee_cents:
            parts.append(f"{format_cents(self.upfront_fee_cents)} up front")
        return ", ".join(parts)


def not_int(value: object) -> bool:
    return isinstance(value, bool) or not isinstance(value, int)
