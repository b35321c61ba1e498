"""The ``[audience]`` section of a scenario: which audience runs, and its parameters."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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
