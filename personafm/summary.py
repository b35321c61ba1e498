"""Per-station and per-run summaries read back from the store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, func, select

from economy.audience import RatingsRow
from economy.contracts import ContractRow
from economy.ledger import LedgerRow
from economy.listeners import MessageRow
from sim.store import FaultRow, ModelCallRow, RunRow
from stations.records import AsRunRow, StationRow


def _t(model: Any) -> Any:
    return model.__table__


def station_summary(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """One row per station: segments, songs, talk, words, balance, faults, calls, tokens."""
    st, ar, fl, mc, lg = (_t(m) for m in (StationRow, AsRunRow, FaultRow, ModelCallRow, LedgerRow))
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(st).where(st.c.run_id == run_id).order_by(st.c.id)):
            out[r.station] = {
                "station": r.station,
                "provider": r.provider,
                "model": r.model,
                "segments": 0,
                "songs": 0,
                "songs_by_model": 0,
                "talk_breaks": 0,
                "talk_words": 0,
                "balance_usd": 0.0,
                "faults": 0,
                "calls": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cost_usd": 0.0,
            }
        aired = ar.c.status == "aired"
        q = (
            select(ar.c.station, ar.c.kind, ar.c.source, func.count())
            .where(ar.c.run_id == run_id, aired)
            .group_by(ar.c.station, ar.c.kind, ar.c.source)
        )
        for station, kind, source, n in conn.execute(q):
            row = out[station]
            row["segments"] += n
            if kind == "song":
                row["songs"] += n
                if source == "model":
                    row["songs_by_model"] += n
            elif kind == "talk":
                row["talk_breaks"] += n
        words: dict[str, int] = defaultdict(int)
        q = select(ar.c.station, ar.c.text).where(ar.c.run_id == run_id, ar.c.kind == "talk", aired)
        for station, text in conn.execute(q):
            words[station] += len((text or "").split())
        for station, n in words.items():
            out[station]["talk_words"] = n
        q = select(fl.c.station, func.count()).where(fl.c.run_id == run_id).group_by(fl.c.station)
        for station, n in conn.execute(q):
            if station in out:
                out[station]["faults"] = n
        q = (
            select(
                mc.c.station,
                func.count(),
                func.sum(mc.c.input_tokens),
                func.sum(mc.c.output_tokens),
                func.sum(mc.c.cost_usd),
            )
            .where(mc.c.run_id == run_id)
            .group_by(mc.c.station)
        )
        for station, n, tin, tout, cost in conn.execute(q):
            if station in out:  # sponsors call models too
                out[station].update(
                    calls=n, input_tokens=tin or 0, output_tokens=tout or 0, cost_usd=cost or 0.0
                )
        last = (
            select(lg.c.station, func.max(lg.c.id).label("last_id"))
            .where(lg.c.run_id == run_id)
            .group_by(lg.c.station)
            .subquery()
        )
        q = select(lg.c.station, lg.c.balance_after_cents).join(last, lg.c.id == last.c.last_id)
        for station, balance in conn.execute(q):
            if station in out:  # sponsors hold accounts too
                out[station]["balance_usd"] = balance / 100
        _market_summary(conn, run_id, out)
    return list(out.values())


INCOME_KINDS = ("donation", "paid_request", "paid_mention", "sponsorship")


def _market_summary(conn: Any, run_id: str, out: dict[str, dict[str, Any]]) -> None:
    """Average AQH, listener and sponsor income, contracts and messages per station."""
    rt, lg, ct, ms = (_t(m) for m in (RatingsRow, LedgerRow, ContractRow, MessageRow))
    for row in out.values():
        row.update(avg_aqh=0.0, income_usd=0.0, contracts=0, messages=0)
    q = select(rt.c.station, func.avg(rt.c.aqh)).where(rt.c.run_id == run_id)
    for station, aqh in conn.execute(q.group_by(rt.c.station)):
        if station in out:
            out[station]["avg_aqh"] = round(float(aqh or 0), 1)
    q = select(lg.c.station, func.sum(lg.c.amount_cents)).where(
        lg.c.run_id == run_id, lg.c.kind.in_(INCOME_KINDS), lg.c.amount_cents > 0
    )
    for station, cents in conn.execute(q.group_by(lg.c.station)):
        if station in out:
            out[station]["income_usd"] = (cents or 0) / 100
    for table, key in ((ct, "contracts"), (ms, "messages")):
        q = select(table.c.station, func.count()).where(table.c.run_id == run_id)
        for station, n in conn.execute(q.group_by(table.c.station)):
            if station in out:
                out[station][key] = n


def list_runs(engine: Engine) -> list[dict[str, Any]]:
    rt, st = _t(RunRow), _t(StationRow)
    counts = select(st.c.run_id, func.count().label("n")).group_by(st.c.run_id).subquery()
    q = (
        select(rt, counts.c.n)
        .outerjoin(counts, counts.c.run_id == rt.c.id)
        .order_by(rt.c.created_at, rt.c.id)
    )
    with engine.connect() as conn:
        return [
            {
                "id": r.id,
                "name": r.name,
                "created_at": r.created_at.isoformat(timespec="seconds"),
                "status": r.status,
                "seed": r.seed,
                "sim_hours": r.sim_hours,
                "stations": r.n or 0,
                "events": r.events,
                "wall_s": round(r.wall_s, 2) if r.wall_s is not None else None,
                "parent_run_id": r.parent_run_id,
                "fork_at_s": r.fork_at_s,
                "cost_usd": round(r.cost_usd, 6),
            }
            for r in conn.execute(q)
        ]
