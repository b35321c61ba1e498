"""One typed reader of a stored run: what every other reader (export, summary, UI,
scoreboard) builds on, and the metric registry on top of it."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from analysis.reader import RunNotFound, read_run
from sim.store import open_store
from stations.records import AsRunRow
from testkit.helpers import export_rows, query_run, run, scripted_scenario

PROBES = "".join(
    f'[[listeners.probes]]\ncategory = "{c}"\nat_hours = [0.5, 1.5]\n'
    for c in ("sycophancy", "manners")
)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> str:
    return run(scripted_scenario(hours=3, stations=2, extra=PROBES), engine, tmp_path).run_id


def test_read_run_gives_typed_read_only_rows(engine: Engine, stored: str) -> None:
    data = read_run(engine, "latest")
    assert data.run_id == stored and data.finished and data.station_names == ["KTA", "KTB"]
    row = data.asrun[0]
    assert {f.name for f in dataclasses.fields(row)} == set(AsRunRow.__table__.columns.keys())  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.text = "changed"  # type: ignore[misc]
    assert all(r.kind == "talk" and r.status == "aired" and r.text for r in data.talk)
    assert data.harness("KTA")["memory"] and data.harness("nope") == {}
    assert 2.9 < data.sim_hours_done <= 3.0


def test_messages_come_with_their_answers_and_keys(engine: Engine, stored: str) -> None:
    data = read_run(engine, stored)
    probes = [m for m in data.messages if m.is_probe]
    assert len(probes) == 2 * 2 * 2
    assert all(m.row.probe_key and m.outcome == "answered" and m.answer for m in probes)
    answered = {m.row.message_id for m in probes}
    refs = {r.ref for r in data.talk if r.ref}
    assert answered <= refs  # each answer aired as talk that names what it answers


def test_the_export_reads_through_the_reader(engine: Engine, stored: str) -> None:
    data = read_run(engine, stored)
    assert len(export_rows(engine, stored, "asrun")) == len(data.asrun)
    calls = export_rows(engine, stored, "calls")
    assert len(calls) == len(data.calls) > 0
    assert all(c["response_text"] for c in calls if c["ok"])
    messages = json.loads(calls[0]["request_messages"])
    assert messages[-1]["role"] == "user"  # the system prompt is stored once, by its hash


def test_a_station_slice_and_an_unknown_station(engine: Engine, stored: str) -> None:
    data = read_run(engine, stored)
    kta = data.station("KTA")
    assert kta.asrun and {r.station for r in kta.asrun} == {"KTA"}
    assert len(kta.talk) == sum(r.station == "KTA" for r in data.talk)
    with pytest.raises(RunNotFound, match=r"no station 'KTX' \(stations: KTA, KTB\)"):
        data.station("KTX")
    with pytest.raises(RunNotFound, match="no run"):
        read_run(engine, "no-such-run")


def _joined_by_hand(engine: Engine, run_id: str) -> tuple[list[tuple], list[tuple]]:
    """The messages and contracts views, joined in Python over the raw tables."""

    def rows(table: str, order: str = "id") -> list[Any]:
        return query_run(
            engine, f"SELECT * FROM {table} WHERE run_id = :r ORDER BY {order}", run_id
        )

    replies = {r.message_id: r for r in rows("replies")}
    outcomes = {r.message_id: r for r in rows("message_outcomes")}
    messages = []
    for m in rows("messages", "station, sim_time_s, id"):
        a, o = replies.get(m.message_id), outcomes.get(m.message_id)
        messages.append((m.message_id, a.text if a else "", a.sim_time_s if a else None,
                         o.outcome if o else "", o.detail if o else ""))  # fmt: skip
    status: dict[str, str] = {}
    spots: dict[str, int] = defaultdict(int)
    paid: dict[str, int] = defaultdict(int)
    for e in rows("contract_events"):
        if e.kind in ("completed", "cancelled", "scam"):
            status[e.contract_id] = e.kind
        spots[e.contract_id] += e.kind == "spot"
        paid[e.contract_id] += e.amount_cents if e.kind == "paid" else 0
    contracts = [
        (
            c.contract_id,
            status.get(c.contract_id, "active"),
            spots[c.contract_id],
            paid[c.contract_id],
        )
        for c in rows("contracts", "contract_id")
    ]
    return messages, contracts


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_joined_views_are_streamed_from_the_database(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``messages`` and ``contracts`` are joined and summed by the database (so a long run
    streams through in flat memory) and say exactly what a join by hand says."""
    url = (
        f"sqlite:///{tmp_path / 'j.db'}"
        if store == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = open_store(url)
    run_id = run(scripted_scenario(hours=30, stations=3, extra=PROBES), engine, tmp_path).run_id
    messages, contracts = _joined_by_hand(engine, run_id)
    data = read_run(engine, run_id)
    got = [(m.row.message_id, m.answer, m.answered_at_s, m.outcome, m.outcome_detail)
           for m in data.iter_messages()]  # fmt: skip
    assert got == messages and len(messages) > 20
    assert {m[3] for m in messages} >= {"answered", ""}
    streamed = [
        (c.row.contract_id, c.status, c.spots_aired, c.paid_cents) for c in data.iter_contracts()
    ]
    assert streamed == contracts
    assert len(contracts) >= 2 and any(c[2] for c in contracts) and any(c[3] for c in contracts)
    # a station's slice streams only its own rows
    kta = data.station("KTA")
    assert [m.row.message_id for m in kta.iter_messages()] == [
        m.row.message_id for m in data.messages if m.station == "KTA"
    ]
    assert data.counts(AsRunRow) == dict(Counter(r.station for r in data.asrun))
    engine.dispose()
