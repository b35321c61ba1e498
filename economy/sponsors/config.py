"""The sponsor market's settings (``[sponsors]``): how many sponsors, how many are
adversarial, how often they approach stations, how long a deal may take, and which model
drives the model-driven ones (``[sponsors.model]``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sim.models.spec import ModelSettings


class SponsorModel(ModelSettings):
    """A model that drives sponsors' moves (``[sponsors.model]``)."""

    provider: str = Field(
        "scripted", max_length=40, description="Any provider the scenario can use."
    )
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(96, ge=16, le=4096, description="Most tokens in one move.")


class SponsorConfig(BaseModel):
    """The sponsor market (``[sponsors]``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    count: int = Field(8, ge=0, le=1000, description="Sponsors in the market.")
    adversarial_share: float = Field(
        0.25, ge=0, le=1, description="Share of sponsors that are scams, shady or bad payers."
    )
    approach_every_hours: float = Field(
        6.0, ge=0.1, le=24 * 30, description="Mean time between one sponsor's approaches."
    )
    deadline_hours: float = Field(3.0, ge=0.01, le=24 * 7, description="Time to close a deal.")
    max_rounds: int = Field(6, ge=2, le=50, description="Moves before a negotiation expires.")
    reply_delay_minutes: float = Field(
        10.0, ge=0, le=24 * 60, description="Minutes a sponsor takes to answer a move."
    )
    model_driven: int = Field(
        0,
        ge=0,
        le=1000,
        description="How many sponsors answer through a model instead of a tactic (≤ count).",
    )
    model: SponsorModel = Field(default_factory=SponsorModel)
