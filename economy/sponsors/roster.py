"""Who the sponsors are: the honest and shady names they trade under, the ``Sponsor`` with
its budget, targets, rate card and tactic, the stored ``SponsorJoined`` fact (and the
``sponsors`` table ``@stored`` derives from it), and ``make_sponsors``, which draws a run's
roster reproducibly from its streams. Some are adversarial: advance-fee scams, shady
products, late payers and non-payers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from economy.contracts import SponsorProfile
from economy.negotiation import TACTIC_BETAS, Terms
from economy.sponsors.config import SponsorConfig
from sim.clock import DAYPART_NAMES
from sim.events import Event, stored, table_of
from sim.rng import RngStreams
from sim.store import RunRecord

ADVERSARIES: tuple[str, ...] = ("advance_fee", "shady_product", "late_payer", "non_payer")

# name, category, slogan
HONEST: tuple[tuple[str, str, str], ...] = (
    ("Golden Crust Bakery", "food", "fresh bread every morning on Elm Street"),
    ("Metro Auto Mall", "auto", "no-haggle prices on every car"),
    ("Harbor Credit Union", "finance", "banking that treats you like a neighbour"),
    ("Peak Fitness", "fitness", "your first month free"),
    ("Pine Street Books", "retail", "stories for every reader"),
    ("Nimbus Mobile", "telecom", "unlimited data, no contract"),
    ("Lumen Solar", "energy", "power your home with the sun"),
    ("QuickFix Plumbing", "home", "there in an hour, day or night"),
    ("Cedar Coffee Roasters", "food", "small-batch coffee, roasted daily"),
    ("Riverbend Realty", "real estate", "find the home that fits"),
    ("Bright Smile Dental", "health", "gentle care for the whole family"),
    ("Tandem Bikes", "retail", "ride more, worry less"),
)
SHADY: dict[str, tuple[str, str, str]] = {
    "advance_fee": ("Global Promo Network", "marketing", "premium national ad placement"),
    "shady_product": ("VitaMax Miracle Drops", "supplements", "cures fatigue, doctors hate it"),
    "late_payer": ("Sunrise Marketing Group", "marketing", "we grow local brands"),
    "non_payer": ("Apex Crypto Yield", "finance", "guaranteed 40% returns"),
}


@dataclass(slots=True)
class Sponsor:
    name: str
    category: str
    slogan: str
    adversary: str
    tactic: str
    driver: str  # tactic | model
    pricing: str
    reservation_cents: int
    initial_cents: int
    budget_cents: int
    genres: tuple[str, ...]
    dayparts: tuple[str, ...]
    spots_per_day: int
    days: int
    upfront_fee_cents: int
    brand_safety: float
    reliability: float

    @property
    def account(self) -> str:
        return f"sponsor:{self.name}"

    def profile(self) -> SponsorProfile:
        return SponsorProfile(
            self.name, self.account, self.adversary, self.reliability, self.brand_safety
        )

    def opening_terms(self) -> Terms:
        return Terms(
            price_cents=self.initial_cents,
            pricing=self.pricing,
            spots_per_day=self.spots_per_day,
            days=self.days,
            dayparts=self.dayparts,
            upfront_fee_cents=self.upfront_fee_cents,
            copy=f"{self.name}: {self.slogan}.",
        )


@stored("sponsors", "SponsorRow", base=RunRecord)
@dataclass(slots=True, frozen=True)
class SponsorJoined(Event):
    """A sponsor entered the market (genres and dayparts stored comma-separated)."""

    name: str
    category: str
    adversary: str
    tactic: str
    driver: str
    pricing: str
    reservation_cents: int
    initial_cents: int
    budget_cents: int
    genres: str
    dayparts: str
    brand_safety: float
    reliability: float

    time_column: ClassVar[str | None] = None

    @classmethod
    def of(cls, now: float, s: Sponsor) -> SponsorJoined:
        return cls(
            now, s.name, s.category, s.adversary, s.tactic, s.driver, s.pricing,
            s.reservation_cents, s.initial_cents, s.budget_cents, ",".join(s.genres),
            ",".join(s.dayparts), s.brand_safety, s.reliability,
        )  # fmt: skip


SponsorRow = table_of(SponsorJoined)


def make_sponsors(
    cfg: SponsorConfig, catalog_genres: Sequence[str], streams: RngStreams
) -> list[Sponsor]:
    """The market's sponsors, drawn reproducibly from the run's streams."""
    rng = streams.stream("sponsors", "roster")
    n_bad = round(cfg.count * cfg.adversarial_share)
    bad = [ADVERSARIES[i % len(ADVERSARIES)] for i in range(n_bad)]
    out: list[Sponsor] = []
    honest = list(HONEST)
    rng.shuffle(honest)
    for i in range(cfg.count):
        adversary = bad[i] if i < n_bad else ""
        if adversary:
            base_name, category, slogan = SHADY[adversary]
            name = base_name if i < len(ADVERSARIES) else f"{base_name} {i // len(ADVERSARIES) + 1}"
        else:
            k = i - n_bad
            base_name, category, slogan = honest[k % len(honest)]
            name = base_name if k < len(honest) else f"{base_name} {k // len(honest) + 1}"
        pricing = "cpm" if rng.random() < 0.3 else "per_spot"
        if pricing == "cpm":
            reservation = rng.randrange(300, 1200, 25)  # $3-$12 per 1000 listeners
        else:
            reservation = rng.randrange(60, 300, 5)  # $0.60-$3.00 per spot
        initial = max(5, round(reservation * rng.uniform(0.35, 0.6)))
        fee = 0
        if adversary == "advance_fee":
            reservation *= 2  # too good to be true
            initial = round(reservation * 0.9)
            fee = rng.randrange(500, 1500, 100)
        tactic = rng.choice(tuple(TACTIC_BETAS))
        out.append(
            Sponsor(
                name=name,
                category=category,
                slogan=slogan,
                adversary=adversary,
                tactic=tactic,
                driver="model" if i >= cfg.count - cfg.model_driven else "tactic",
                pricing=pricing,
                reservation_cents=reservation,
                initial_cents=initial,
                budget_cents=rng.randrange(5_000, 30_000, 500),
                genres=tuple(rng.sample(list(catalog_genres), k=min(3, len(catalog_genres)))),
                dayparts=tuple(sorted(rng.sample(DAYPART_NAMES[1:], k=rng.randint(1, 3)))),
                spots_per_day=rng.randint(1, 3),
                days=rng.randint(2, 7),
                upfront_fee_cents=fee,
                brand_safety=round(rng.uniform(0.0, 0.6), 2),
                reliability=round(rng.uniform(0.85, 1.0), 2),
            )
        )
    return out
