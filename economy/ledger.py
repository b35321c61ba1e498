"""The ledger: every cent that moves is a transaction; balances are derived from them.

Amounts are integer cents. Spending never overdraws: ``spend`` and
``transfer`` refuse when the balance is short. Accounts are stations and
sponsors. Every move carries a transaction number: a ``transfer`` is two rows
with the same number that sum to zero (payer and payee both hold accounts);
a ``credit`` or ``spend`` is one row whose counterparty is outside the
simulation (the founder's grant, a listener's donation, the host, the
catalog). So the books always add up: money is only created or destroyed at
an external counterparty, and never by a rounding slip.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy
from sqlalchemy import Index

from sim.bus import EventBus
from sim.events import Event, stored, table_of


@stored("ledger", "LedgerRow", indexes=(Index("ix_ledger_run_station", "run_id", "station", "id"),))
@dataclass(slots=True, frozen=True)
class MoneyMoved(Event):
    """One posting: ``amount_cents`` into (or, negative, out of) ``station``'s account."""

    station: str
    txn: int
    amount_cents: int
    kind: str
    counterparty: str
    reason: str
    balance_after_cents: int


LedgerRow = table_of(MoneyMoved)


class Ledger:
    def __init__(self, env: simpy.Environment, bus: EventBus) -> None:
        self.env = env
        self.bus = bus
        self._balances: dict[str, int] = {}
        self._txn = 0

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

    def transfer(self, payer: str, payee: str, cents: int, kind: str, reason: str) -> bool:
        """Move ``cents`` between two accounts if the payer covers it; return whether it moved."""
        if cents <= 0:
            raise ValueError(f"a transfer must be positive, got {cents}")
        if payee not in self._balances:
            raise KeyError(f"no account {payee!r}")
        if payer == payee:
            raise ValueError("cannot transfer to the same account")
        if cents > self._balances[payer]:
            return False
        self._txn += 1
        self._post(payer, -cents, kind, payee, reason)
        self._post(payee, cents, kind, payer, reason)
        return True

    def _move(self, station: str, cents: int, kind: str, counterparty: str, reason: str) -> None:
        self._txn += 1
        self._post(station, cents, kind, counterparty, reason)

    def _post(self, account: str, cents: int, kind: str, counterparty: str, reason: str) -> None:
        balance = self._balances[account] + cents
        self._balances[account] = balance
        self.bus.publish(
            MoneyMoved(self.env.now, account, self._txn, cents, kind, counterparty, reason, balance)
        )
