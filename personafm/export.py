"""Stable, documented exports of a run (as-run log, model calls, ledger), and run lookup.

Columns are listed in ``COLUMNS`` and in the README; rows come in a fixed
order (by station, then time/sequence) so two identical runs export identical
files apart from ``run_id``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import Engine, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from economy.ledger import LedgerRow
from sim.store import ModelCallRow, RunRow
from stations.records import AsRunRow

COLUMNS: dict[str, tuple[str, ...]] = {
    "asrun": (
        "run_id",
        "station",
        "seq",
        "start_s",
        "end_s",
        "kind",
        "song_id",
        "title",
        "artist",
        "album",
        "text",
        "source",
        "status",
    ),
    "calls": (
        "run_id",
        "seq",
        "station",
        "sim_time_s",
        "provider",
        "model",
        "system_prompt_sha256",
        "input_tokens",
        "output_tokens",
        "latency_s",
        "request_hash",
        "ok",
        "error",
        "finish_reason",
    ),
    "ledger": (
        "run_id",
        "station",
        "sim_time_s",
        "amount_usd",
        "kind",
        "counterparty",
        "reason",
        "balance_after",
    ),
}
WHATS = tuple(COLUMNS)
FORMATS = ("jsonl", "csv")


class RunNotFound(LookupError):
    pass


def resolve_run(engine: Engine, ref: str) -> RunRow:
    """A run by id, unique id prefix, or ``latest``."""
    with Session(engine) as session:
        if ref == "latest":
            row = session.exec(
                sqlmodel_select(RunRow).order_by(
                    col(RunRow.created_at).desc(), col(RunRow.id).desc()
                )
            ).first()
            if row is None:
                raise RunNotFound("no runs in this database yet: start one with `personafm run`")
            return row
        exact = session.get(RunRow, ref)
        if exact is not None:
            return exact
        rows = session.exec(sqlmodel_select(RunRow).where(col(RunRow.id).startswith(ref))).all()
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise RunNotFound(f"no run {ref!r}: list runs with `personafm runs`")
        raise RunNotFound(f"{ref!r} matches {len(rows)} runs; give more of the id")


def iter_rows(engine: Engine, run_id: str, what: str) -> Iterator[dict[str, Any]]:
    if what not in COLUMNS:
        raise ValueError(f"unknown export {what!r}; choose one of {', '.join(WHATS)}")
    with engine.connect() as conn:
        if what == "asrun":
            t = AsRunRow.__table__  # type: ignore[attr-defined]
            q = select(t).where(t.c.run_id == run_id).order_by(t.c.station, t.c.seq)
            for r in conn.execute(q).mappings():
                yield {k: r[k] for k in COLUMNS["asrun"]}
        elif what == "calls":
            t = ModelCallRow.__table__  # type: ignore[attr-defined]
            q = select(t).where(t.c.run_id == run_id).order_by(t.c.seq)
            for r in conn.execute(q).mappings():
                yield {k: r[k] for k in COLUMNS["calls"]}
        else:
            t = LedgerRow.__table__  # type: ignore[attr-defined]
            q = select(t).where(t.c.run_id == run_id).order_by(t.c.station, t.c.id)
            for r in conn.execute(q).mappings():
                yield {
                    "run_id": r["run_id"],
                    "station": r["station"],
                    "sim_time_s": r["sim_time_s"],
                    "amount_usd": r["amount_cents"] / 100,
                    "kind": r["kind"],
                    "counterparty": r["counterparty"],
                    "reason": r["reason"],
                    "balance_after": r["balance_after_cents"] / 100,
                }


def write_export(engine: Engine, run_id: str, what: str, fmt: str, out: TextIO) -> int:
    """Write the export to ``out``; return the number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    n = 0
    rows = iter_rows(engine, run_id, what)
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    else:
        writer = csv.DictWriter(out, fieldnames=COLUMNS[what], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def export_text(engine: Engine, run_id: str, what: str, fmt: str = "jsonl") -> str:
    buf = io.StringIO()
    write_export(engine, run_id, what, fmt, buf)
    return buf.getvalue()
