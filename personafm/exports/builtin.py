"""The built-in exports: the stored tables as documented files (README: "Export schema").

Money is exported in dollars (stored in cents); ``messages`` and ``contracts`` are the
database-joined views of ``analysis.reader`` (a message with its answer and outcome, a
contract with its final status and what it earned).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from analysis.reader import RunData, resolve_run
from personafm.export import EXPORTS, export_table

export_table(
    "asrun",
    (
        "run_id", "station", "seq", "start_s", "end_s", "kind", "song_id", "title", "artist",
        "album", "text", "source", "status", "ref",
    ),
    table="asrun",
    order=("station", "seq"),
)  # fmt: skip

export_table(
    "calls",
    (
        "run_id", "seq", "station", "sim_time_s", "provider", "model", "system_prompt_sha256",
        "input_tokens", "output_tokens", "latency_s", "cost_usd", "source", "request_hash", "ok",
        "error", "finish_reason", "response_text", "request_messages",
    ),
    table="model_calls",
    order=("seq",),
    compute=lambda r: {"request_messages": r["messages_json"] or ""},
)  # fmt: skip

export_table(
    "ledger",
    (
        "run_id", "station", "sim_time_s", "txn", "amount_usd", "kind", "counterparty", "reason",
        "balance_after",
    ),
    table="ledger",
    order=("station", "id"),
    compute=lambda r: {
        "amount_usd": r["amount_cents"] / 100,
        "balance_after": r["balance_after_cents"] / 100,
    },
)  # fmt: skip

export_table(
    "ratings",
    ("run_id", "station", "quarter_start_s", "daypart", "aqh", "share", "listeners_now"),
    table="ratings",
    order=("station", "quarter_start_s"),
)

export_table(
    "dayparts",
    (
        "run_id", "station", "day", "daypart", "start_s", "quarters", "cume", "avg_aqh",
        "tsl_hours",
    ),
    table="ratings_dayparts",
    order=("station", "start_s"),
)  # fmt: skip


def _messages(engine: Engine, run_id: str) -> Iterator[dict[str, Any]]:
    """A letter or call with what the station said back (a call's answer as it aired)."""
    pick = EXPORTS["messages"].pick
    for m in RunData(engine, resolve_run(engine, run_id)).iter_messages():
        yield pick(m.row, amount_usd=m.row.amount_cents / 100, answer=m.answer,
                   answered_at_s=m.answered_at_s, outcome=m.outcome,
                   outcome_detail=m.outcome_detail)  # fmt: skip


export_table(
    "messages",
    (
        "run_id", "station", "message_id", "sim_time_s", "listener", "kind", "amount_usd",
        "song_id", "probe_category", "probe_key", "text", "flags", "via", "answer",
        "answered_at_s", "outcome", "outcome_detail",
    ),
    rows=_messages,
)  # fmt: skip


def _negotiation(r: Any) -> dict[str, Any]:
    terms = json.loads(r["terms_json"])
    return {"terms": r["terms_json"], "price_usd": terms.get("price_cents", 0) / 100}


export_table(
    "negotiations",
    (
        "run_id", "negotiation_id", "station", "counterparty", "round", "party", "move", "terms",
        "price_usd", "status_after", "sim_time_s",
    ),
    table="negotiations",
    order=("negotiation_id", "round"),
    compute=_negotiation,
)  # fmt: skip


def _contracts(engine: Engine, run_id: str) -> Iterator[dict[str, Any]]:
    """A contract with its final status, spots aired and money paid."""
    pick = EXPORTS["contracts"].pick
    for c in RunData(engine, resolve_run(engine, run_id)).iter_contracts():
        yield pick(c.row, price_usd=c.row.price_cents / 100,
                   upfront_fee_usd=c.row.upfront_fee_cents / 100, status=c.status,
                   spots_aired=c.spots_aired, paid_usd=c.paid_cents / 100)  # fmt: skip


export_table(
    "contracts",
    (
        "run_id", "contract_id", "station", "sponsor", "negotiation_id", "pricing", "price_usd",
        "spots_per_day", "days", "dayparts", "upfront_fee_usd", "ad_copy", "signed_s", "end_s",
        "status", "spots_aired", "paid_usd",
    ),
    rows=_contracts,
)  # fmt: skip
