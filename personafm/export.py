"""Stable, documented exports of a run, and run lookup.

As-run log, model calls, ledger, ratings (per quarter hour and per daypart),
listener messages, negotiations and contracts.

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

from sqlalchemy import Connection, Engine, RowMapping, Table, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from economy.audience import DaypartRatingsRow, RatingsRow
from economy.contracts import ContractEventRow, ContractRow
from economy.ledger import LedgerRow
from economy.listeners import MessageOutcomeRow, MessageRow, ReplyRow
from economy.negotiation import NegotiationRow
from sim.store import ModelCallRow, RunRow
from sim.text import csv_cell, excerpt, json_line
from stations.records import AsRunRow

COLUMNS: dict[str, tuple[str, ...]] = {
    "asrun": (
        "run_id", "station", "seq", "start_s", "end_s", "kind", "song_id", "title", "artist",
        "album", "text", "source", "status", "ref",
    ),
    "calls": (
        "run_id", "seq", "station", "sim_time_s", "provider", "model", "system_prompt_sha256",
        "input_tokens", "output_tokens", "latency_s", "cost_usd", "source", "request_hash", "ok",
        "error", "finish_reason",
    ),
    "ledger": (
        "run_id", "station", "sim_time_s", "txn", "amount_usd", "kind", "counterparty", "reason",
        "balance_after",
    ),
    "ratings": (
        "run_id", "station", "quarter_start_s", "daypart", "aqh", "share", "listeners_now",
    ),
    "dayparts": (
        "run_id", "station", "day", "daypart", "start_s", "quarters", "cume", "avg_aqh",
        "tsl_hours",
    ),
    "messages": (
        "run_id", "station", "message_id", "sim_time_s", "listener", "kind", "amount_usd",
        "song_id", "probe_category", "probe_key", "text", "flags", "via", "answer",
        "answered_at_s", "outcome", "outcome_detail",
    ),
    "negotiations": (
        "run_id", "negotiation_id", "station", "counterparty", "round", "party", "move", "terms",
        "price_usd", "status_after", "sim_time_s",
    ),
    "contracts": (
        "run_id", "contract_id", "station", "sponsor", "negotiation_id", "pricing", "price_usd",
        "spots_per_day", "days", "dayparts", "upfront_fee_usd", "ad_copy", "signed_s", "end_s",
        "status", "spots_aired", "paid_usd",
    ),
}  # fmt: skip
WHATS = tuple(COLUMNS)
FORMATS = ("jsonl", "csv")


class RunNotFound(LookupError):
    pass


def resolve_run(engine: Engine, ref: str) -> RunRow:
    """A run by id, unique id prefix, or ``latest``; the prefix is matched literally
    (``%`` and ``_`` are not SQL wildcards)."""
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
        prefixed = col(RunRow.id).startswith(ref, autoescape=True)
        rows = session.exec(sqlmodel_select(RunRow).where(prefixed).limit(2)).all()
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise RunNotFound(f"no run {excerpt(ref)}: list runs with `personafm runs`")
        raise RunNotFound(f"{excerpt(ref)} matches more than one run; give more of the id")


def _t(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _rows(conn: Connection, model: Any, run_id: str, *order: str) -> Iterator[RowMapping]:
    t = _t(model)
    q = select(t).where(t.c.run_id == run_id).order_by(*(t.c[o] for o in order))
    yield from conn.execute(q).mappings()


def _pick(r: RowMapping, what: str, **computed: Any) -> dict[str, Any]:
    return {k: computed[k] if k in computed else r[k] for k in COLUMNS[what]}


def iter_rows(engine: Engine, run_id: str, what: str) -> Iterator[dict[str, Any]]:
    if what not in COLUMNS:
        raise ValueError(f"unknown export {what!r}; choose one of {', '.join(WHATS)}")
    with engine.connect() as conn:
        if what == "asrun":
            for r in _rows(conn, AsRunRow, run_id, "station", "seq"):
                yield _pick(r, what)
        elif what == "calls":
            for r in _rows(conn, ModelCallRow, run_id, "seq"):
                yield _pick(r, what)
        elif what == "ledger":
            for r in _rows(conn, LedgerRow, run_id, "station", "id"):
                yield _pick(
                    r,
                    what,
                    amount_usd=r["amount_cents"] / 100,
                    balance_after=r["balance_after_cents"] / 100,
                )
        elif what == "ratings":
            for r in _rows(conn, RatingsRow, run_id, "station", "quarter_start_s"):
                yield _pick(r, what)
        elif what == "dayparts":
            for r in _rows(conn, DaypartRatingsRow, run_id, "station", "start_s"):
                yield _pick(r, what)
        elif what == "messages":
            yield from _messages(conn, run_id)
        elif what == "negotiations":
            for r in _rows(conn, NegotiationRow, run_id, "negotiation_id", "round"):
                terms = json.loads(r["terms_json"])
                yield _pick(
                    r, what, terms=r["terms_json"], price_usd=terms.get("price_cents", 0) / 100
                )
        else:
            yield from _contracts(conn, run_id)


def _messages(conn: Connection, run_id: str) -> Iterator[dict[str, Any]]:
    """Letters and calls with what the station said back (a call's answer as it aired)."""
    answers = {r["message_id"]: r for r in _rows(conn, ReplyRow, run_id, "id")}
    outcomes = {r["message_id"]: r for r in _rows(conn, MessageOutcomeRow, run_id, "id")}
    for r in _rows(conn, MessageRow, run_id, "station", "sim_time_s", "id"):
        mid = r["message_id"]
        answer = answers.get(mid)
        outcome = outcomes.get(mid)
        yield _pick(
            r,
            "messages",
            amount_usd=r["amount_cents"] / 100,
            answer=answer["text"] if answer else "",
            answered_at_s=answer["sim_time_s"] if answer else None,
            outcome=outcome["outcome"] if outcome else "",
            outcome_detail=outcome["detail"] if outcome else "",
        )


FINAL_STATUSES = ("completed", "cancelled", "scam")


def _contracts(conn: Connection, run_id: str) -> Iterator[dict[str, Any]]:
    status: dict[str, str] = {}
    spots: dict[str, int] = {}
    paid: dict[str, int] = {}
    for e in _rows(conn, ContractEventRow, run_id, "id"):
        cid = e["contract_id"]
        if e["kind"] in FINAL_STATUSES:
            status[cid] = e["kind"]
        elif e["kind"] == "spot":
            spots[cid] = spots.get(cid, 0) + 1
        elif e["kind"] == "paid":
            paid[cid] = paid.get(cid, 0) + e["amount_cents"]
    for r in _rows(conn, ContractRow, run_id, "contract_id"):
        cid = r["contract_id"]
        yield _pick(
            r,
            "contracts",
            price_usd=r["price_cents"] / 100,
            upfront_fee_usd=r["upfront_fee_cents"] / 100,
            status=status.get(cid, "active"),
            spots_aired=spots.get(cid, 0),
            paid_usd=paid.get(cid, 0) / 100,
        )


def write_export(
    engine: Engine, run_id: str, what: str, fmt: str, out: TextIO, drop: tuple[str, ...] = ()
) -> int:
    """Write the export to ``out`` (without the ``drop`` columns); return the number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    n = 0
    rows = iter_rows(engine, run_id, what)
    if drop:
        rows = ({k: v for k, v in r.items() if k not in drop} for r in rows)
    if fmt == "jsonl":  # values as stored; no character in a line can steer a terminal
        for row in rows:
            out.write(json_line(row) + "\n")
            n += 1
    else:  # printable cells that a spreadsheet will not evaluate
        columns = [c for c in COLUMNS[what] if c not in drop]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
            n += 1
    return n


def export_text(engine: Engine, run_id: str, what: str, fmt: str = "jsonl") -> str:
    buf = io.StringIO()
    write_export(engine, run_id, what, fmt, buf)
    return buf.getvalue()
