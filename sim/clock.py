"""The simulated wall clock and the broadcast dayparts (docs/architecture.md: radio domain).

They live in the kernel because every domain reads them: stations for their
hour clock, the audience for availability and ratings dayparts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

QUARTER_HOUR_S = 900.0

# (name, first hour, last hour exclusive)
DAYPARTS: tuple[tuple[str, int, int], ...] = (
    ("overnight", 0, 6),
    ("morning drive", 6, 10),
    ("midday", 10, 15),
    ("afternoon drive", 15, 19),
    ("evening", 19, 24),
)
DAYPART_NAMES: tuple[str, ...] = tuple(name for name, _, _ in DAYPARTS)


def daypart(hour: int) -> str:
    for name, first, last in DAYPARTS:
        if first <= hour < last:
            return name
    raise ValueError(f"hour out of range: {hour}")


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

    def day_index(self, sim_s: float) -> int:
        """Whole days since midnight of the start day."""
        return int((self._offset_s + sim_s) // 86_400)

    def daypart(self, sim_s: float) -> str:
        return daypart(self.hour_of_day(sim_s))

    def seconds_to_midnight(self, sim_s: float) -> float:
        """Seconds from ``sim_s`` to the next midnight (a full day when it is midnight)."""
        return 86_400.0 - (self._offset_s + sim_s) % 86_400.0

    def seconds_to_next_quarter(self, sim_s: float) -> float:
        """Seconds from ``sim_s`` to the next wall-clock quarter hour (:00, :15, :30, :45)."""
        into = (self._offset_s + sim_s) % QUARTER_HOUR_S
        return QUARTER_HOUR_S - into

    def label(self, sim_s: float) -> str:
        return self.at(sim_s).strftime("%a %H:%M")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "": 3600.0}


def parse_duration(text: str) -> float:
    """'6h', '90m', '3600s', '1.5d' or a bare number of hours -> seconds."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"expected a duration like 6h, 90m or 3600s, got {text!r}")
    return float(m[1]) * _UNIT_S[m[2]]
