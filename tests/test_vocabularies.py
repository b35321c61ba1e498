"""Vocabularies as types: segment kinds, message outcomes, moves, fault kinds and the rest are
``StrEnum`` s owned by the module of their concept, stored as their plain lowercase strings on
every database and in the event log, and no fault is raised with a bare string kind."""

from __future__ import annotations

import json
from enum import Enum, StrEnum
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analysis.reader import read_run
from economy.airplay import SegmentKind, SegmentSource, SegmentStatus
from economy.contracts import FINAL_EVENTS, ContractEventKind, ContractStatus
from economy.listeners import MessageKind, MessageOutcome, Via
from economy.negotiation import Move, NegotiationStatus, Party
from personafm.scenario import parse_scenario
from sim.events import FAULT_KINDS, Event, Fault, fault_kind, fault_kinds
from sim.recorder import Recorder
from sim.store import open_store
from sim.vocabulary import Vocabulary
from testkit.helpers import query_run, run, scripted_toml
from tui.timeline import Timeline

# column -> its vocabulary; every one of them is filled by the run below
COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("asrun", "kind"): SegmentKind,
    ("asrun", "source"): SegmentSource,
    ("asrun", "status"): SegmentStatus,
    ("messages", "kind"): MessageKind,
    ("messages", "via"): Via,
    ("message_outcomes", "outcome"): MessageOutcome,
    ("negotiations", "party"): Party,
    ("negotiations", "move"): Move,
    ("negotiations", "status_after"): NegotiationStatus,
    ("contract_events", "kind"): ContractEventKind,
}
PROBES = "".join(
    f'[[listeners.probes]]\ncategory = "{c}"\nat_hours = [0.5, 2.5]\nvia = "{via}"\n'
    for c, via in (("injection", "call"), ("injection", "mail"), ("sycophancy", "mail"))
)
CHAOS = "[model.chaos]\ntimeout = 0.05\ntruncated = 0.05\nschema_violation = 0.05\n"
# sponsors that scam and haggle, calls and letters, a persona that obeys injected
# instructions and a provider that fails now and then: many kinds of everything
TOML = scripted_toml(
    hours=12,
    stations=2,
    extra=PROBES
    + "[sponsors]\ncount = 8\nadversarial_share = 0.5\nmodel_driven = 2\n"
    + "approach_every_hours = 0.5\n[listeners]\ncall_share = 1.0\n",
    persona="injection_compliance = 1.0\ngullibility = 0.8\nhaggle_rate = 0.5",
).replace("[economy]", CHAOS + "[economy]")


def _run(engine: Engine, tmp_path: Path) -> tuple[str, list[Fault]]:
    faults: list[Fault] = []

    def observe(event: Event) -> None:
        if isinstance(event, Fault):
            faults.append(event)

    result = run(parse_scenario(TOML, "vocabularies.toml"), engine, tmp_path, observers=[observe])
    assert result.status == "finished"
    return result.run_id, faults


def _assert_stored_plain(engine: Engine, run_id: str) -> None:
    for (table, column), vocabulary in COLUMNS.items():
        sql = f"select distinct {column} from {table} where run_id = :r"
        values = [v for (v,) in query_run(engine, sql, run_id)]
        assert values, f"{table}.{column}: nothing stored"
        assert all(type(v) is str for v in values), (table, column, values)
        assert set(values) <= {m.value for m in vocabulary}, (table, column, values)
    sql = "select distinct kind from faults where run_id = :r"
    kinds = [k for (k,) in query_run(engine, sql, run_id)]
    assert kinds and all(type(k) is str and fault_kind(k) is not None for k in kinds), kinds
    # readers that filter by a member in SQL find the stored strings
    contracts = read_run(engine, run_id).contracts
    assert ContractStatus.SCAM in {c.status for c in contracts}
    sql = "select count(*) from contract_events where run_id = :r and kind = 'spot'"
    assert sum(c.spots_aired for c in contracts) == query_run(engine, sql, run_id)[0][0] > 0
    sql = "select max(start_s) from asrun where run_id = :r and status = 'aired'"
    assert Timeline.of_run(engine, run_id).end_s == query_run(engine, sql, run_id)[0][0] > 0


def _assert_faults_typed(faults: list[Fault]) -> None:
    """Every fault the run raised has a member of a registered fault-kind enum as its kind."""
    assert len({f.kind for f in faults}) >= 5, {f.kind for f in faults}
    bare = {f.kind for f in faults if type(f.kind) not in FAULT_KINDS}
    assert not bare, f"fault kinds that are not members of a fault-kind enum: {bare}"


def test_a_run_on_sqlite_stores_plain_strings(engine: Engine, tmp_path: Path) -> None:
    run_id, faults = _run(engine, tmp_path)
    _assert_stored_plain(engine, run_id)
    _assert_faults_typed(faults)
    # the event log (JSON lines) holds the plain strings too
    lines = (tmp_path / "logs" / f"{run_id}.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    aired = [e for e in events if e["event"] == "SegmentAired"]
    assert aired and {e["kind"] for e in aired} <= {m.value for m in SegmentKind}
    assert {e["status"] for e in aired} == {m.value for m in SegmentStatus}
    logged = {e["kind"] for e in events if e["event"] == "Fault"}
    assert logged == {f.kind.value for f in faults}


@pytest.mark.postgres
def test_a_run_on_postgres_stores_plain_strings(postgres_url: str, tmp_path: Path) -> None:
    pg = open_store(postgres_url)
    try:
        run_id, faults = _run(pg, tmp_path)
        _assert_stored_plain(pg, run_id)
        _assert_faults_typed(faults)
    finally:
        pg.dispose()


class _Named(Enum):
    """An ``Enum`` that is not a ``str``: a driver would adapt it by name, or not at all."""

    LOUD = "model_error"


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_recorder_stores_any_enum_by_its_value(
    db: str, engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = engine if db == "sqlite" else open_store(request.getfixturevalue("postgres_url"))
    run_id = f"vocab-{db}-{tmp_path.name}"
    try:
        recorder = Recorder(store, run_id)
        recorder(Fault(1.0, "KTA", _Named.LOUD, "a plain Enum"))  # type: ignore[arg-type]
        recorder(Fault(2.0, "KTA", MessageOutcome.DECLINED, "a StrEnum"))
        recorder.flush()
        rows = query_run(store, "select kind from faults where run_id = :r order by id", run_id)
        assert [k for (k,) in rows] == ["model_error", "declined"]
    finally:
        if store is not engine:
            store.dispose()


def test_members_are_their_strings() -> None:
    member = SegmentKind.TALK
    assert member == "talk" and hash(member) == hash("talk") and isinstance(member, StrEnum)
    assert (str(member), f"{member}", repr(member)) == ("talk", "talk", "'talk'")
    assert json.dumps({member: [Via.CALL]}) == '{"talk": ["call"]}'
    assert ",".join((Via.MAIL, Via.CALL)) == "mail,call"
    # the events that end a contract are named after the status it ends in
    assert {e.value for e in FINAL_EVENTS} == {s.value for s in ContractStatus} - {"active"}


def test_a_fault_kind_belongs_to_one_enum() -> None:
    values = [m.value for vocabulary in FAULT_KINDS for m in vocabulary]
    assert len(values) == len(set(values)) and "invalid_move" in values
    assert fault_kind("model_error") is not None and fault_kind("no_such_fault") is None

    class Clash(Vocabulary):
        INVALID_MOVE = "invalid_move"

    with pytest.raises(ValueError, match="belong to another enum"):
        fault_kinds(Clash)
    assert Clash not in FAULT_KINDS
