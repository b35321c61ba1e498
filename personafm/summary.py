"""Per-station and per-run summaries read back from the store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from analysis.reader import read_run
from economy.airplay import SegmentKind, SegmentSource, SegmentStatus
from economy.contracts import ContractRow
from economy.ledger import LedgerRow
from economy.listeners import MessageRow
from economy.ratings_book import RatingsRow
from sim.events import FaultRow, ModelCallRow
from sim.runstate import run_state
from sim.store import RunRow
from stations.records import AsRunRow, StationRow

INCOME_KINDS = ("donation", "paid_request", "paid_mention", "sponsorship")


def station_summary(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """One row per station: segments, songs, talk, words, balance, faults, calls, tokens,
    average AQH, listener and sponsor income, contracts and messages. Rows are streamed
    or counted by the database, so memory does not grow with the run."""
    data = read_run(engine, run_id)
    out: dict[str, dict[str, Any]] = {}
    for s in data.stations:
        out[s.station] = {
            "station": s.station, "provider": s.provider, "model": s.model,
            "segments": 0, "songs": 0, "songs_by_model": 0, "talk_breaks": 0, "talk_words": 0,
            "balance_usd": 0.0, "faults": 0, "calls": 0, "input_tokens": 0, "output_tokens": 0,
            "cost_usd": 0.0, "avg_aqh": 0.0, "income_usd": 0.0, "contracts": 0, "messages": 0,
        }  # fmt: skip
    for r in data.stream(AsRunRow, "station", "seq"):
        row = out.get(r.station)
        if row is None or r.status != SegmentStatus.AIRED:
            continue
        row["segments"] += 1
        if r.kind == SegmentKind.SONG:
            row["songs"] += 1
            row["songs_by_model"] += r.source == SegmentSource.MODEL
        elif r.kind == SegmentKind.TALK:
            row["talk_breaks"] += 1
            row["talk_words"] += len((r.text or "").split())
    for c in data.stream(ModelCallRow, "seq"):
        if c.station in out:  # sponsors call models too
            row = out[c.station]
            row["calls"] += 1
            row["input_tokens"] += c.input_tokens
            row["output_tokens"] += c.output_tokens
            row["cost_usd"] += c.cost_usd or 0.0
    for e in data.stream(LedgerRow, "station", "id"):
        if e.station in out:  # sponsors hold accounts too; rows come in order
            out[e.station]["balance_usd"] = e.balance_after_cents / 100
            if e.kind in INCOME_KINDS and e.amount_cents > 0:
                out[e.station]["income_usd"] += e.amount_cents / 100
    aqh_sum: dict[str, int] = defaultdict(int)
    aqh_n: dict[str, int] = defaultdict(int)
    for q in data.stream(RatingsRow, "station", "quarter_start_s"):
        aqh_sum[q.station] += q.aqh
        aqh_n[q.station] += 1
    for station, n in aqh_n.items():
        if station in out:
            out[station]["avg_aqh"] = round(aqh_sum[station] / n, 1)
    for key, model in (("faults", FaultRow), ("contracts", ContractRow), ("messages", MessageRow)):
        for station, n in data.counts(model).items():
            if station in out:
                out[station][key] = n
    return list(out.values())


def _hours_done(conn: Connection, run: Any) -> float:
    """Simulated hours a run covered: all of them if it finished, else up to its last
    consistent point (or, for a run from before checkpoints, its last segment)."""
    if run.status == "finished":
        return float(run.sim_hours)
    if run.checkpoint_s is not None:
        end = max(0.0, run.checkpoint_s)
    else:
        a = AsRunRow.__table__  # type: ignore[attr-defined]
        end = conn.execute(select(func.max(a.c.end_s)).where(a.c.run_id == run.id)).scalar() or 0.0
    return round(min(end / 3600.0, run.sim_hours), 3)


def list_runs(engine: Engine, run_id: str | None = None) -> list[dict[str, Any]]:
    """Every stored run as ``personafm runs`` lists it (only ``run_id`` if given)."""
    rt, st = RunRow.__table__, StationRow.__table__  # type: ignore[attr-defined]
    counts = select(st.c.run_id, func.count().label("n")).group_by(st.c.run_id).subquery()
    q = (
        select(rt, counts.c.n)
        .outerjoin(counts, counts.c.run_id == rt.c.id)
        .order_by(rt.c.created_at, rt.c.id)
    )
    if run_id is not None:
        q = q.where(rt.c.id == run_id)
    with engine.connect() as conn:
        return [
            {
                "id": r.id,
                "name": r.name,
                "label": r.label,
                "created_at": r.created_at.isoformat(timespec="seconds"),
                "status": run_state(r),  # type: ignore[arg-type]
                "seed": r.seed,
                "sim_hours_done": _hours_done(conn, r),
                "sim_hours": r.sim_hours,
                "stations": r.n or 0,
                "events": r.events if r.status != "running" else r.checkpoint_events,
                "wall_s": round(r.wall_s, 2) if r.wall_s is not None else None,
                "parent_run_id": r.parent_run_id,
                "fork_at_s": r.fork_at_s,
                "cost_usd": round(r.cost_usd, 6),
            }
            for r in conn.execute(q).all()
        ]
