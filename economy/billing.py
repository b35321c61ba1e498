"""The daily bill (hosting fee plus accrued royalties and inference) and bankruptcy.

Royalties and inference costs accrue continuously (fractions of a cent are
kept) and are billed with the hosting fee once a day, all or nothing, one
ledger line per kind. Unpaid bills carry over as arrears.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

import simpy

from economy.ledger import Ledger
from sim.bus import EventBus
from sim.events import Fault, fault_kinds
from sim.vocabulary import Vocabulary

DAY_S = 86_400.0
PAYEES = {"hosting_fee": "host", "royalty": "royalty-collective", "inference": "model-provider"}


@fault_kinds
class BillingFault(Vocabulary):
    """Fault kinds of the daily bill."""

    FEE_UNPAID = "fee_unpaid"  # a daily bill the station could not pay in full
    BANKRUPT = "bankrupt"  # too many unpaid days: the station goes off air


class HostingBiller:
    """Every 24 h (at midnight, as the world builds it) each station owes the fee, its
    accruals and arrears; it pays all or nothing.

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
        first_bill_s: float = DAY_S,
    ) -> None:
        self.env = env
        self.bus = bus
        self.ledger = ledger
        self.stations = list(stations)
        self.fee_cents = fee_cents
        self.bankrupt_after = bankrupt_after
        self.owed: dict[str, dict[str, int]] = {s: {} for s in self.stations}
        self._accrued: dict[str, dict[str, float]] = {s: {} for s in self.stations}
        self.unpaid_days: dict[str, int] = dict.fromkeys(self.stations, 0)
        self.bankrupt: set[str] = set()
        env.process(self._run(first_bill_s))

    def is_bankrupt(self, station: str) -> bool:
        return station in self.bankrupt

    def accrue(self, station: str, kind: str, cents: float) -> None:
        """Add a cost (e.g. ``royalty``) to the next daily bill; fractions of a cent are kept."""
        if cents < 0:
            raise ValueError(f"cannot accrue a negative cost, got {cents}")
        acc = self._accrued[station]
        acc[kind] = acc.get(kind, 0.0) + cents

    def _run(self, first_bill_s: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(first_bill_s)
        while True:
            for station in self.stations:
                if station not in self.bankrupt:
                    self._bill(station)
            yield self.env.timeout(DAY_S)

    def _bill(self, station: str) -> None:
        lines = self.owed[station]
        lines["hosting_fee"] = lines.get("hosting_fee", 0) + self.fee_cents
        for kind, amount in self._accrued[station].items():
            whole = int(amount)
            if whole:
                lines[kind] = lines.get(kind, 0) + whole
                self._accrued[station][kind] = amount - whole
        owed = sum(lines.values())
        day = int(self.env.now // DAY_S)
        if owed <= self.ledger.balance(station):
            for kind, amount in sorted(lines.items()):
                payee = PAYEES.get(kind, kind)
                self.ledger.spend(station, amount, kind, payee, f"{kind} through day {day}")
            lines.clear()
            self.unpaid_days[station] = 0
            return
        self.unpaid_days[station] += 1
        days = self.unpaid_days[station]
        self.bus.publish(
            Fault(
                self.env.now,
                station,
                BillingFault.FEE_UNPAID,
                f"owes {owed}c, {days} day(s) unpaid",
            )
        )
        if days >= self.bankrupt_after:
            self.bankrupt.add(station)
            self.bus.publish(
                Fault(
                    self.env.now,
                    station,
                    BillingFault.BANKRUPT,
                    f"off air after {days} unpaid days",
                )
            )
