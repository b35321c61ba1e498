"""The station's hour clock: station ID and ad breaks (dayparts live in ``sim.clock``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ClockConfig(BaseModel):
    """The hour clock. Breaks start at the given minutes past the hour."""

    model_config = ConfigDict(extra="forbid")

    station_id_s: float = Field(8.0, gt=0, le=60)
    ad_break_minutes: list[int] = Field(default_factory=lambda: [20, 50])
    spots_per_break: int = Field(2, ge=0, le=8)
    spot_s: float = Field(30.0, gt=0, le=120)
    talk_words_per_minute: float = Field(150.0, gt=30, le=400)
    max_talk_words: int = Field(250, ge=10, le=2000)

    @field_validator("ad_break_minutes")
    @classmethod
    def _minutes(cls, v: list[int]) -> list[int]:
        if len(v) > 4 or any(not 0 < m < 60 for m in v) or len(set(v)) != len(v):
            raise ValueError("up to 4 distinct minutes between 1 and 59")
        return sorted(v)
