"""The station's hour clock: station ID and ad breaks (dayparts live in ``sim.clock``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ClockConfig(BaseModel):
    """The hour clock. Breaks start at the given minutes past the hour."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    station_id_s: float = Field(8.0, gt=0, le=60, description="Length of the station ID.")
    ad_break_minutes: list[Annotated[int, Field(ge=1, le=59)]] = Field(
        default_factory=lambda: [20, 50],
        max_length=4,
        description="Minutes past the hour an ad break starts (up to 4, distinct).",
    )
    spots_per_break: int = Field(2, ge=0, le=8, description="Spots in one ad break.")
    spot_s: float = Field(30.0, gt=0, le=120, description="Length of one spot.")
    talk_words_per_minute: float = Field(
        150.0, gt=30, le=400, description="Speaking rate: how long talk takes to air."
    )
    max_talk_words: int = Field(
        250, ge=10, le=2000, description="Talk beyond this many words is cut."
    )

    @field_validator("ad_break_minutes")
    @classmethod
    def _minutes(cls, v: list[int]) -> list[int]:
        if len(v) > 4 or any(not 0 < m < 60 for m in v) or len(set(v)) != len(v):
            raise ValueError("up to 4 distinct minutes between 1 and 59")
        return sorted(v)
