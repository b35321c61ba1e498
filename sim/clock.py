"""The simulated wall clock and the broadcast dayparts (DESIGN.md: radio domain).

They live in the kernel because every domain reads them: stations for their
hour clock, the audience for availability and ratings dayparts.
"""

from __future__ import annotations

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
