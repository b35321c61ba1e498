"""One hostile station, served over a real HTTP server speaking Chat Completions.

KEVL's model tries every kind of foreign id (other stations' negotiations,
contracts, messages and songs), sends non-finite numbers, deep nesting, escape
sequences, spreadsheet formulas and fragments of its API key. The same run is
played twice with the same seed: once with the foreign ids, once without. If
authority holds, every other station's records are identical in both, and the
attempts are logged as KEVL's own. Every file the run writes is then searched
for any piece of the key.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from personafm.export import FORMATS, whats, write_export
from sim.redact import FRAGMENT
from testkit.helpers import export_rows, query_run
from testkit.hostile import ESC_TALK, FORMULA_TALK, KEY, VICTIMS, run_hostile


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    base = tmp_path_factory.mktemp("hostile")
    return run_hostile(base, True), run_hostile(base, False)


@pytest.fixture(scope="module")
def exported(runs: Any) -> Path:
    """Every export of the attacked run, in every format, beside its database and log."""
    (engine, result, _, folder), _ = runs
    for what in whats():
        for fmt in FORMATS:
            with (folder / f"{what}.{fmt}").open("w", encoding="utf-8", newline="") as fh:
                write_export(engine, result.run_id, what, fmt, fh)
    engine.dispose()  # checkpoint the WAL into the database file
    return folder


def _victim_rows(engine: Engine, run_id: str, what: str) -> list[dict[str, Any]]:
    rows = export_rows(engine, run_id, what)
    for r in rows:
        r.pop("run_id", None)
    return [r for r in rows if r.get("station") != "KEVL"]


@pytest.mark.parametrize("what", ["asrun", "ledger", "negotiations", "contracts", "messages"])
def test_no_other_station_record_changes(runs: Any, what: str) -> None:
    (a_engine, a, *_), (b_engine, b, *_) = runs
    attacked = _victim_rows(a_engine, a.run_id, what)
    control = _victim_rows(b_engine, b.run_id, what)
    assert attacked == control
    if what in ("negotiations", "contracts", "messages"):  # there was something to steal
        assert {r["station"] for r in attacked} >= set(VICTIMS)


def test_victims_faults_are_unchanged_and_attempts_are_the_attacker_s(runs: Any) -> None:
    (a_engine, a, hostile, _), (b_engine, b, *_) = runs
    sql = "select station, sim_time_s, kind, detail from faults where run_id = :r order by id"
    attacked = [f for f in query_run(a_engine, sql, a.run_id) if f[0] in VICTIMS]
    control = [f for f in query_run(b_engine, sql, b.run_id) if f[0] in VICTIMS]
    assert attacked == control
    foreign = query_run(
        a_engine, "select station, detail from faults where run_id = :r and kind = 'foreign_id'",
        a.run_id,
    )  # fmt: skip
    assert foreign and {s for s, _ in foreign} == {"KEVL"}
    details = [d for _, d in foreign]
    for what, tried in (
        ("on negotiation", hostile.tried["deal"]),
        ("reply to message", hostile.tried["reply"]),
        ("ad read of contract", hostile.tried["ad"]),
    ):
        assert sum(what in d for d in details) == tried >= 20, what
    # ids that exist nowhere are the attacker's own invalid moves, filed under KEVL
    missing = query_run(
        a_engine, "select station, detail from faults where run_id = :r and "
        "(detail like '%N9999%' or detail like '%M999999%' or detail like '%C9999%')", a.run_id,
    )  # fmt: skip
    assert missing and {s for s, _ in missing} == {"KEVL"}
    refused_songs = query_run(
        a_engine, "select count(*) from faults where run_id = :r and station = 'KEVL' "
        "and kind = 'rule_rejected' and detail like 'queue %not in the library'", a.run_id,
    )  # fmt: skip
    assert refused_songs[0][0] == hostile.tried["queue"] > 0


def test_hostile_output_is_a_logged_fault_never_a_crash(runs: Any) -> None:
    (engine, result, hostile, _), _ = runs
    kinds = dict(
        query_run(
            engine,
            "select kind, count(*) from faults where run_id = :r and station = 'KEVL' "
            "group by kind",
            result.run_id,
        )
    )
    turns = next(hostile.turns)
    assert kinds.get("invalid_output", 0) >= 2 * (turns // 7) - 2  # nesting and Infinity
    assert kinds.get("ignored_fields", 0) > 0  # "transfer" does nothing
    assert "apply_error" not in kinds  # every bad reply was caught where it was parsed
    ledger = export_rows(engine, result.run_id, "ledger")
    kevl = [r for r in ledger if r["station"] == "KEVL"]
    assert kevl and not [r for r in kevl if r["counterparty"] in VICTIMS]
    assert {r["kind"] for r in kevl} <= {
        "grant", "donation", "paid_request", "paid_mention", "hosting_fee", "royalty",
    }  # fmt: skip  # its own listeners' money and its own bills: nothing of another station's


def test_no_fragment_of_the_key_in_any_file_the_run_writes(runs: Any, exported: Path) -> None:
    (engine, result, _, _), _ = runs
    files = [p for p in exported.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.suffix == ".db" for p in files)
    pieces = {KEY[i : i + FRAGMENT].encode() for i in range(len(KEY) - FRAGMENT + 1)}
    for path in files:
        data = path.read_bytes()
        leaked = [p for p in pieces if p in data]
        assert not leaked, f"{path.name} holds {leaked[:3]}"
    errors = [e for (e,) in query_run(
        engine, "select error from model_calls where run_id = :r and error is not null",
        result.run_id,
    )]  # fmt: skip
    assert len(errors) >= 2 and all("[redacted]" in e for e in errors[:2])


def test_talk_is_stored_as_written_but_exported_without_escapes(runs: Any, exported: Path) -> None:
    (engine, result, _, _), _ = runs
    stored = [t for (t,) in query_run(
        engine, "select text from asrun where run_id = :r and station = 'KEVL' "
        "and kind = 'talk'", result.run_id,
    )]  # fmt: skip
    assert ESC_TALK in stored and FORMULA_TALK in stored
    csv_bytes = (exported / "asrun.csv").read_bytes()
    jsonl_bytes = (exported / "asrun.jsonl").read_bytes()
    for data in (csv_bytes, jsonl_bytes):
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)
    assert b"\\u001b[2J" in jsonl_bytes  # escaped, and parses back to what was said
    cells = [r["text"] for r in csv.DictReader(io.StringIO(csv_bytes.decode()))]
    assert "'" + FORMULA_TALK in cells  # shown as text, never evaluated
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
