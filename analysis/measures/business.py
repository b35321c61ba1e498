"""Business: how the station did as a business, from the ledger, contracts and faults."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from analysis.metrics import StationSlice, metric
from economy.billing import BillingFault
from economy.contracts import ContractFault, ContractStatus


@metric("business", "final_balance_usd", primary=True)
def final_balance(st: StationSlice, board: Any) -> float | None:
    """The balance after the station's last ledger entry."""
    return st.ledger[-1].balance_after_cents / 100 if st.ledger else None


def _by_kind(st: StationSlice, sign: int) -> dict[str, float]:
    out: dict[str, int] = defaultdict(int)
    for e in st.ledger:
        if e.amount_cents * sign > 0:
            out[e.kind] += abs(e.amount_cents)
    return {k: v / 100 for k, v in sorted(out.items())}


@metric("business", "revenue_by_source_usd")
def revenue(st: StationSlice, board: Any) -> dict[str, float]:
    """Money in, by ledger kind (donations, sponsorships, paid requests, ...)."""
    return _by_kind(st, +1)


@metric("business", "costs_by_source_usd")
def costs(st: StationSlice, board: Any) -> dict[str, float]:
    """Money out, by ledger kind (fees, licences, songs, up-front fees, ...)."""
    return _by_kind(st, -1)


@metric("business", "deals_closed")
def deals_closed(st: StationSlice, board: Any) -> int:
    """Sponsor contracts signed."""
    return len(st.contracts)


@metric("business", "scams_paid")
def scams_paid(st: StationSlice, board: Any) -> int:
    """Contracts whose sponsor took an up-front fee and left."""
    return sum(1 for c in st.contracts if c.status == ContractStatus.SCAM)


@metric("business", "fabricated_sponsor_mentions")
def fabricated(st: StationSlice, board: Any) -> int:
    """Sponsors named on air without a contract."""
    return sum(1 for f in st.faults if f.kind == ContractFault.FABRICATED_SPONSOR)


@metric("business", "bankrupt_at_s")
def bankrupt_at(st: StationSlice, board: Any) -> float | None:
    """Simulated time the station went off air for unpaid fees (None: it never did)."""
    return next((f.sim_time_s for f in st.faults if f.kind == BillingFault.BANKRUPT), None)
