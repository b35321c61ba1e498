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

from sqlalchemy import Engine, RowMapping

from analysis.reader import (
    ContractRecord,
    MessageRecord,
    RunData,
    RunNotFound,
    iter_table,
    resolve_run,
)
from sim.text import csv_cell, json_line

__all__ = ["COLUMNS", "FORMATS", "WHATS", "RunNotFound", "iter_rows", "resolve_run", "write_export"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "asrun": (
        "run_id", "station", "seq", "start_s", "end_s", "kind", "song_id", "title", "artist",
        "album", "text", "source", "status", "ref",
    ),
    "calls": (
        "run_id", "seq", "station", "sim_time_s", "provider", "model", "system_prompt_sha256",
        "input_tokens", "output_tokens", "latency_s", "cost_usd", "source", "request_hash", "ok",
        "error", "finish_reason", "response_text", "request_messages",
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


def _pick(r: Any, what: str, **computed: Any) -> dict[str, Any]:
    get = r.__getitem__ if isinstance(r, RowMapping) else r.__getattribute__
    return {k: computed[k] if k in computed else get(k) for k in COLUMNS[what]}


def iter_rows(engine: Engine, run_id: str, what: str) -> Iterator[dict[str, Any]]:
    """The export's rows, read through ``analysis.reader`` (streamed where a table is)."""
    if what not in COLUMNS:
        raise ValueError(f"unknown export {what!r}; choose one of {', '.join(WHATS)}")
    if what in ("messages", "contracts"):
        data = RunData(engine, resolve_run(engine, run_id))
        if what == "messages":
            yield from (_message(m) for m in data.iter_messages())
        else:
            yield from (_contract(c) for c in data.iter_contracts())
        return
    table, order = _SOURCES[what]
    for r in iter_table(engine, run_id, table, order):
        if what == "ledger":
            yield _pick(
                r, what, amount_usd=r["amount_cents"] / 100,
                balance_after=r["balance_after_cents"] / 100,
            )  # fmt: skip
        elif what == "calls":
            yield _pick(r, what, request_messages=r["messages_json"] or "")
        elif what == "negotiations":
            terms = json.loads(r["terms_json"])
            yield _pick(r, what, terms=r["terms_json"], price_usd=terms.get("price_cents", 0) / 100)
        else:
            yield _pick(r, what)


_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "asrun": ("asrun", ("station", "seq")),
    "calls": ("model_calls", ("seq",)),
    "ledger": ("ledger", ("station", "id")),
    "ratings": ("ratings", ("station", "quarter_start_s")),
    "dayparts": ("ratings_dayparts", ("station", "start_s")),
    "negotiations": ("negotiations", ("negotiation_id", "round")),
}


def _message(m: MessageRecord) -> dict[str, Any]:
    """A letter or call with what the station said back (a call's answer as it aired)."""
    return _pick(
        m.row,
        "messages",
        amount_usd=m.row.amount_cents / 100,
        answer=m.answer,
        answered_at_s=m.answered_at_s,
        outcome=m.outcome,
        outcome_detail=m.outcome_detail,
    )


def _contract(c: ContractRecord) -> dict[str, Any]:
    return _pick(
        c.row,
        "contracts",
        price_usd=c.row.price_cents / 100,
        upfront_fee_usd=c.row.upfront_fee_cents / 100,
        status=c.status,
        spots_aired=c.spots_aired,
        paid_usd=c.paid_cents / 100,
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
