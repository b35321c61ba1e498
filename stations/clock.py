"""Broadcast clock: dayparts and the hour clock (station ID, ad breaks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

# (name, first hour, last hour exclusive), per DESIGN.md
DAYPARTS: tuple[tuple[str, int, int], ...] = (
    ("overnight", 0, 6),
    ("morning drive", 6, 10),
    ("midday", 10, 15),
    ("afternoon drive", 15, 19),
    ("evening", 19, 24),
)


def daypart(hour: int) -> str:
    for name, first, last in DAYPARTS:
        if first <= hour < last:
            return name
    raise ValueError(f"hour out of range: {hour}")


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


class SimClock:
    """Maps simulated seconds to wall-clock time from the scenario's start."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._offset_s = start.minute * 60 + start.second + start.hour * 3600

    def at(self, sim_s: float) -> datetime:
        return self.start + timedelta(seconds=sim_s)

    def hour_index(self, sim_s: float) -> int:
        """Whole hours since midnight of the start day (keeps counting past 24)."""
        return int((self._offset_s + sim_s) // 3600)

    def minute_of_hour(self, sim_s: float) -> float:
        return ((self._offset_s + sim_s) % 3600) / 60

    def hour_of_day(self, sim_s: float) -> int:
        return self.hour_index(sim_s) % 24

    def daypart(self, sim_s: float) -> str:
        return daypart(self.hour_of_day(sim_s))

    def label(self, sim_s: float) -> str:
        return self.at(sim_s).strftime("%a %H:%M")
