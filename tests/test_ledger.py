"""Ledger invariants: balance is the sum of transactions; spending never overdraws."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from economy.billing import DAY_S
from economy.ledger import Ledger, MoneyMoved
from sim.bus import EventBus
from testkit.helpers import export_rows, query_run, run, scripted_scenario

ops = st.lists(
    st.tuples(
        st.sampled_from(["credit", "spend"]),
        st.sampled_from(["A", "B"]),
        st.integers(min_value=1, max_value=5_000),
    ),
    max_size=200,
)


@given(start=st.integers(min_value=0, max_value=10_000), operations=ops)
@settings(max_examples=200, deadline=None)
def test_balance_is_sum_of_transactions_and_never_negative(start: int, operations) -> None:
    bus = EventBus()
    moves: list[MoneyMoved] = []
    bus.subscribe(moves.append, MoneyMoved)  # type: ignore[arg-type]
    ledger = Ledger(simpy.Environment(), bus)
    for station in ("A", "B"):
        ledger.open_account(station, start)
    for op, station, amount in operations:
        before = ledger.balance(station)
        if op == "credit":
            ledger.credit(station, amount, "donation", "listener", "test")
        else:
            paid = ledger.spend(station, amount, "song_purchase", "catalog", "test")
            assert paid == (amount <= before)
            if not paid:
                assert ledger.balance(station) == before
        assert ledger.balance(station) >= 0
    totals: dict[str, int] = defaultdict(int)
    for m in moves:
        totals[m.station] += m.amount_cents
        assert m.balance_after_cents == totals[m.station]
    for station in ("A", "B"):
        assert ledger.balance(station) == totals[station]


flows = st.lists(
    st.tuples(
        st.sampled_from(["credit", "spend", "transfer"]),
        st.sampled_from(["A", "B", "sponsor:S"]),
        st.sampled_from(["A", "B", "sponsor:S"]),
        st.integers(min_value=1, max_value=5_000),
    ),
    max_size=200,
)


@given(operations=flows)
@settings(max_examples=200, deadline=None)
def test_money_is_conserved(operations) -> None:
    """Every credit has a matching debit or an external source: the sum over accounts moves
    only by external credits and spends, and each transfer's two rows cancel out."""
    bus = EventBus()
    moves: list[MoneyMoved] = []
    bus.subscribe(moves.append, MoneyMoved)  # type: ignore[arg-type]
    ledger = Ledger(simpy.Environment(), bus)
    accounts = ("A", "B", "sponsor:S")
    for account in accounts:
        ledger.open_account(account, 1_000)
    external = 3 * 1_000
    for op, a, b, amount in operations:
        before = {x: ledger.balance(x) for x in accounts}
        if op == "credit":
            ledger.credit(a, amount, "donation", "listener:L1", "test")
            external += amount
        elif op == "spend":
            if ledger.spend(a, amount, "royalty", "royalty-collective", "test"):
                external -= amount
        elif a != b:
            moved = ledger.transfer(a, b, amount, "sponsorship", "test")
            assert moved == (amount <= before[a])
            if not moved:
                assert {x: ledger.balance(x) for x in accounts} == before
        assert all(ledger.balance(x) >= 0 for x in accounts)
        assert sum(ledger.balance(x) for x in accounts) == external
    by_txn: dict[int, list[MoneyMoved]] = defaultdict(list)
    for m in moves:
        by_txn[m.txn].append(m)
    for legs in by_txn.values():
        if len(legs) == 2:
            assert legs[0].amount_cents == -legs[1].amount_cents
            assert {legs[0].counterparty, legs[1].counterparty} == {
                legs[0].station,
                legs[1].station,
            }
        else:
            assert len(legs) == 1 and legs[0].counterparty not in accounts


def test_ledger_rejects_nonsense_amounts() -> None:
    ledger = Ledger(simpy.Environment(), EventBus())
    ledger.open_account("A", 100)
    with pytest.raises(ValueError):
        ledger.credit("A", 0, "x", "y", "z")
    with pytest.raises(ValueError):
        ledger.spend("A", -5, "x", "y", "z")
    with pytest.raises(ValueError):
        ledger.open_account("A", 1)


def test_run_books_add_up_and_fees_lead_to_bankruptcy(engine, tmp_path: Path) -> None:
    # $3 start, $1/day fee billed at midnight (the run starts at 06:00, so at 18 h, 42 h, ...):
    # paid on days 1-3, unpaid on days 4 and 5 -> bankrupt at 18 h + 4 days.
    # The market is shut (no mail, no sponsors, no royalties) so only the fee moves money.
    economy = (
        "start_balance_usd = 3.0\nhosting_fee_usd_per_day = 1.0\nbankrupt_after_days_unpaid = 2\n"
        "royalty_usd_per_1000_performances = 0\n"
    )
    extra = (
        "[listeners]\nmessages_per_1000_per_hour = 0\nmin_messages_per_hour = 0\n"
        "[sponsors]\ncount = 0\n"
    )
    scenario = scripted_scenario(
        hours=24 * 6, stations=2, economy=economy, extra=extra, persona="buy_rate = 0"
    )
    result = run(scenario, engine, tmp_path)
    ledger = export_rows(engine, result.run_id, "ledger")
    by_station: dict[str, list[dict]] = defaultdict(list)
    for r in ledger:
        by_station[r["station"]].append(r)
    assert len(by_station) == 2
    for rows in by_station.values():
        total = 0.0
        for r in rows:
            total = round(total + r["amount_usd"], 2)
            assert r["balance_after"] == total
            assert r["balance_after"] >= 0
        assert [r["kind"] for r in rows] == ["grant"] + ["hosting_fee"] * 3
    faults = query_run(
        engine,
        "select station, kind, sim_time_s from faults where run_id = :r "
        "and kind in ('fee_unpaid', 'bankrupt')",
        result.run_id,
    )
    assert sorted(k for _, k, _ in faults) == ["bankrupt"] * 2 + ["fee_unpaid"] * 4
    bankrupt_at = 18 * 3600 + 4 * DAY_S
    assert {t for _, k, t in faults if k == "bankrupt"} == {bankrupt_at}
    # a bankrupt station goes off air: nothing starts after its current segment ends
    asrun = export_rows(engine, result.run_id, "asrun")
    assert max(r["end_s"] for r in asrun) <= bankrupt_at + 900
