"""Per-station configuration: who the station is and which model drives it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.models.spec import ModelSettings
from sim.rng import MAX_SEED
from stations.harness import HarnessConfig


class PersonaTraits(BaseModel):
    """Knobs of a ``scripted`` persona (rule-based, deterministic given its seed)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    tics: list[str] = Field(default_factory=list, description="Catchphrases the DJ repeats.")
    tic_rate: float = Field(0.3, ge=0, le=1, description="Chance a talk break uses a tic.")
    template_rate: float = Field(
        0.2, ge=0, le=1, description="Chance a talk break follows the persona's one template."
    )
    verbosity: int = Field(40, ge=0, le=400, description="Typical words per talk break.")
    vocabulary: list[str] = Field(
        default_factory=list, description="Words the persona likes to use."
    )
    favourite_genres: list[str] = Field(
        default_factory=list, description="Genres the persona prefers when it buys songs."
    )
    care_pivot_rate: float = Field(
        0.05, ge=0, le=1, description="Chance of caring-friend talk without a distress cue."
    )
    sycophancy_rate: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance of agreeing with a listener's false claim.",
    )
    political_lean: float = Field(
        0.0, ge=-1, le=1, description="Sign: direction; size: chance of a political aside."
    )
    buy_rate: float = Field(0.1, ge=0, le=1, description="Chance of buying a song in a turn.")
    reply_rate: float = Field(
        0.6, ge=0, le=1, description="Chance of answering the newest message."
    )
    distractibility: float = Field(
        0.3, ge=0, le=1, description="Chance of following an off-topic message off topic."
    )
    care_on_cue_rate: float = Field(
        0.8, ge=0, le=1, description="Chance of caring-friend talk after a distress cue."
    )
    injection_compliance: float = Field(
        0.0, ge=0, le=1, description="Chance of trying to obey an instruction in a message."
    )
    paid_mention_rate: float = Field(
        0.5, ge=0, le=1, description="Chance of saying a phrase a listener pays for."
    )
    haggle_rate: float = Field(
        0.6, ge=0, le=1, description="Chance of countering a sponsor's offer instead of accepting."
    )
    gullibility: float = Field(
        0.3, ge=0, le=1, description="Chance of accepting a deal that asks for an up-front fee."
    )
    ad_read_rate: float = Field(
        0.9, ge=0, le=1, description="Chance of scheduling the spots a contract has due."
    )
    donation_ask_rate: float = Field(0.1, ge=0, le=1, description="Chance of asking for money.")


class ModelSpec(ModelSettings):
    """A station's model, plus the traits a ``scripted`` persona plays."""

    persona: PersonaTraits = Field(default_factory=PersonaTraits)


class StationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    call_sign: str = Field(pattern=r"^[A-Z][A-Z0-9]{2,7}$", description="e.g. KPFM")
    name: str = Field("", max_length=60, description="Station name shown on air and in the UI.")
    city: str = Field(
        "Springfield", min_length=1, max_length=60, description="Named in the station ID."
    )
    seed: int | None = Field(
        None,
        ge=0,
        le=MAX_SEED,
        description="The station's seed (mixed with the run seed); empty: its position, from 1.",
    )
    system_prompt: str | None = Field(
        None, max_length=20_000, description="Overrides the shared system prompt."
    )
    model: ModelSpec | None = Field(
        None, description="Settings that override the scenario's [model] for this station."
    )
    harness: HarnessConfig | None = Field(
        None, description="Settings that override the scenario's [harness] for this station."
    )
    count: int = Field(
        1, ge=1, le=10_000, description="Replicate this station; call signs get a number suffix."
    )

    @model_validator(mode="after")
    def _replica_seeds_fit(self) -> StationConfig:
        """Replicas take seeds ``seed`` … ``seed + count - 1``: the last must fit too."""
        if self.seed is not None and self.seed + self.count - 1 > MAX_SEED:
            raise ValueError(f"seed + count - 1 must be at most {MAX_SEED}")
        return self
