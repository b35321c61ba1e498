"""The ledger: every cent that moves is a transaction; balances are derived from them.

Amounts are integer cents. Spending never overdraws: ``spend`` refuses when
the balance is short. Money that comes from outside the simulation (the
founder's grant, later donations and sponsors) is a credit with an external
counterparty, so the books always add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import simpy
from sqlmodel import SQLModel

from sim.bus import EventBus
from sim.events import Event
from sim.store import StationRecord


class LedgerRow(StationRecord, table=True):
    __tablename__ = "ledger"

    sim_time_s: float
    amount_cents: int
    kind: str
    counterparty: str
    reason: str
    balance_after_cents: int


@dataclass(slots=True, frozen=True)
class MoneyMoved(Event):
    station: str
    amount_cents: int
    kind: str
    counterparty: str
    reason: str
    balance_after_cents: int

    table: ClassVar[type[SQLModel] | None] = LedgerRow


class Ledger:
    def __init__(self, env: simpy.Environment, bus: EventBus) -> None:
        self.env = env
        self.bus = bus
        self._balances: dict[str, int] = {}

    def open_account(self, station: str, cents: int, source: str = "founder") -> None:
        if station in self._balances:
            raise ValueError(f"account {station!r} already open")
        self._balances[station] = 0
        if cents:
            self.credit(station, cents, "grant", source, "starting budget")

    def balance(self, station: str) -> int:
        return self._balances[station]

    def credit(self, station: str, cents: int, kind: str, counterparty: str, reason: str) -> None:
        if cents <= 0:
            raise ValueError(f"a credit must be positive, got {cents}")
        self._move(station, cents, kind, counterparty, reason)

    def spend(self, station: str, cents: int, kind: str, counterparty: str, reason: str) -> bool:
        """Debit ``cents`` if the balance covers it; return whether it was paid."""
        if cents < 0:
            raise ValueError(f"cannot spend a negative amount, got {cents}")
        if cents > self._balances[station]:
            return False
        if cents:
            self._move(station, -cents, kind, counterparty, reason)
        return True

    def _move(self, station: str, cents: int, kind: str, counterparty: str, reason: str) -> None:
        balance = self._balances[station] + cents
        self._balances[station] = balance
        self.bus.publish(
            MoneyMoved(self.env.now, station, cents, kind, counterparty, reason, balance)
        )
