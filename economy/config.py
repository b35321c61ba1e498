"""Economy parameters, as they appear under ``[economy]`` in a scenario."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# The most money a setting may name. Amounts are held in integer cents, and every
# balance, fee and price stays far inside a 64-bit column (and a float's exact integers).
MAX_BALANCE_USD = 1_000_000


class EconomyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    start_balance_usd: float = Field(
        20.0, ge=0, le=MAX_BALANCE_USD, description="Each station's starting money."
    )
    song_price_usd: float = Field(
        1.0, ge=0, le=1_000, description="Price to license one catalog song."
    )
    hosting_fee_usd_per_day: float = Field(2.0, ge=0, le=10_000, description="Charged every 24 h.")
    bankrupt_after_days_unpaid: int = Field(
        10,
        ge=1,
        le=366,
        description="Consecutive unpaid days before a station goes off air (runs last at "
        "most 366 days, so 366 means never).",
    )
    starter_library_size: int = Field(
        60, ge=10, le=300, description="Songs each station owns at the start (free)."
    )
    royalty_usd_per_1000_performances: float = Field(
        0.02,
        ge=0,
        le=100,
        description="Per-performance royalty: one performance is one song to one listener.",
    )
    inference_usd_per_1k_tokens: float = Field(
        0.0, ge=0, le=1000, description="Charge stations for their model's tokens (0 = off)."
    )


def cents(usd: float) -> int:
    """Whole cents of a dollar amount (finite: settings are bounded, see docs/settings.md)."""
    return round(usd * 100)
