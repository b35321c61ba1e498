"""The daily hosting fee and bankruptcy after too many unpaid days."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

import simpy

from economy.ledger import Ledger
from sim.bus import EventBus
from sim.events import Fault

DAY_S = 86_400.0


class HostingBiller:
    """Every 24 h each station owes the fee plus arrears; it pays all or nothing.

    After ``bankrupt_after`` consecutive unpaid days the station is bankrupt and
    goes off air (``is_bankrupt``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        bus: EventBus,
        ledger: Ledger,
        stations: Iterable[str],
        fee_cents: int,
        bankrupt_after: int,
    ) -> None:
        self.env = env
        self.bus = bus
        self.ledger = ledger
        self.stations = list(stations)
        self.fee_cents = fee_cents
        self.bankrupt_after = bankrupt_after
        self.owed: dict[str, int] = dict.fromkeys(self.stations, 0)
        self.unpaid_days: dict[str, int] = dict.fromkeys(self.stations, 0)
        self.bankrupt: set[str] = set()
        env.process(self._run())

    def is_bankrupt(self, station: str) -> bool:
        return station in self.bankrupt

    def _run(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(DAY_S)
            for station in self.stations:
                if station not in self.bankrupt:
                    self._bill(station)

    def _bill(self, station: str) -> None:
        self.owed[station] += self.fee_cents
        owed = self.owed[station]
        day = int(self.env.now // DAY_S)
        if self.ledger.spend(station, owed, "hosting_fee", "host", f"hosting through day {day}"):
            self.owed[station] = 0
            self.unpaid_days[station] = 0
            return
        self.unpaid_days[station] += 1
        days = self.unpaid_days[station]
        self.bus.publish(
            Fault(self.env.now, station, "fee_unpaid", f"owes {owed}c, {days} day(s) unpaid")
        )
        if days >= self.bankrupt_after:
            self.bankrupt.add(station)
            self.bus.publish(
                Fault(self.env.now, station, "bankrupt", f"off air after {days} unpaid days")
            )
