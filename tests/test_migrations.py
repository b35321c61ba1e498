"""Schema migrations: a database written by an older Persona FM is upgraded in place, keeps
its rows and takes new runs; one at head is left alone; one from a newer version is refused
with a message saying what to do."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from sim import migrate
from sim.store import RunRow, StoreError, open_store
from testkit.helpers import export_rows, run, scripted_scenario
from tests.test_store_concurrency import RACE

ROOT = Path(__file__).resolve().parents[1]

# every column added to an existing table since the first schema, found in the history
ADDED = {
    ("stations", "sim_time_s"),
    ("turns", "market_json"),
    ("ledger", "txn"),
    ("runs", "scenario_json"),
    ("runs", "price_table"),
    ("runs", "cost_usd"),
    ("model_calls", "cost_usd"),
    ("model_calls", "source"),
    ("asrun", "ref"),
    ("stations", "harness_json"),
    ("messages", "via"),
    ("message_outcomes", "detail"),
    ("runs", "owner"),
    ("runs", "heartbeat_at"),
    ("runs", "checkpoint_s"),
    ("runs", "checkpoint_events"),
    ("runs", "label"),
}
LATER_TABLE = "ratings_dayparts"  # an old database may lack whole tables, made by create_all
OLD_RUN = {
    "id": "old-run",
    "name": "before migrations",
    "scenario_path": "old.toml",
    "scenario_toml": "[run]",
    "seed": 7,
    "sim_start": "2026-01-05T06:00:00",
    "sim_hours": 2.0,
    "created_at": sa.func.now(),
    "status": "finished",
    "events": 42,
}


def test_the_revisions_add_every_column_added_over_time() -> None:
    assert set(migrate.added_columns()) == ADDED


def _make_old(url: str) -> None:
    """Today's tables without the columns, table and version table an old version lacks."""
    engine = open_store(url)
    with engine.begin() as conn:
        for table, column in sorted(ADDED):
            conn.execute(text(f'ALTER TABLE "{table}" DROP COLUMN "{column}"'))
        if engine.dialect.name == "postgresql":  # before 64-bit seeds
            for table in ("runs", "stations"):
                conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN seed TYPE INTEGER"))
        conn.execute(text(f"DROP TABLE {LATER_TABLE}"))
        conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        runs = sa.Table("runs", sa.MetaData(), autoload_with=conn)
        conn.execute(runs.insert().values(OLD_RUN))
    engine.dispose()


def _columns(engine: Engine) -> dict[str, dict[str, tuple[str, bool]]]:
    inspector = inspect(engine)
    return {
        t: {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(t)}
        for t in inspector.get_table_names()
    }


def _version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("select version_num from alembic_version")).scalars())


def _check_upgraded(old_url: str, fresh_url: str, tmp_path: Path) -> None:
    engine = open_store(old_url)
    fresh = open_store(fresh_url)
    try:
        have = _columns(engine)
        assert not ADDED - {(t, c) for t, cols in have.items() for c in cols}
        assert have == _columns(fresh)  # same names, types (BIGINT seeds) and nullability
        assert _version(engine) == [migrate.head()]
        with Session(engine) as session:
            old = session.get(RunRow, "old-run")
            assert old is not None
            kept = {k: getattr(old, k) for k in OLD_RUN if k != "created_at"}
            assert kept == {k: v for k, v in OLD_RUN.items() if k != "created_at"}
            assert (old.scenario_json, old.price_table, old.cost_usd, old.owner) == ("", "", 0, "")
            assert (old.heartbeat_at, old.checkpoint_s, old.checkpoint_events) == (None, None, 0)
        scenario = scripted_scenario(hours=1, stations=1, seed=2**40)
        result = run(scenario, engine, tmp_path)
        assert result.status == "finished"
        assert export_rows(engine, result.run_id, "asrun")
        calls = export_rows(engine, result.run_id, "calls")
        assert calls
        assert {c["source"] for c in calls} == {"live"}
        with engine.connect() as conn:
            seed = conn.execute(text("select seed from runs where id = :r"), {"r": result.run_id})
            assert seed.scalar_one() == 2**40
    finally:
        engine.dispose()
        fresh.dispose()


def test_an_older_sqlite_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _make_old(url)
    _check_upgraded(url, f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)


@pytest.mark.postgres
def test_an_older_postgres_database_is_migrated_and_keeps_its_rows(
    postgres_url: str, tmp_path: Path
) -> None:
    from personafm.pgserver import new_database

    url = new_database(postgres_url, "migrate_old")
    _make_old(url)
    check = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    seed = next(c for c in inspect(check).get_columns("runs") if c["name"] == "seed")
    check.dispose()
    assert str(seed["type"]) == "INTEGER"  # 32-bit seeds, as before 0005_bigint_seeds
    _check_upgraded(url, new_database(postgres_url, "migrate_fresh"), tmp_path)


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return (
            conn.execute(text("pragma schema_version")).scalar_one(),
            conn.execute(text("select type, name, sql from sqlite_master order by name")).all(),
            conn.execute(text("select * from alembic_version")).all(),
        )


def test_a_database_at_head_is_left_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = open_store(url)
    before = _snapshot(engine)
    engine.dispose()
    engine = open_store(url)
    try:
        assert _snapshot(engine) == before
        assert before[2] == [(migrate.head(),)]
    finally:
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    engine = open_store(url)
    with engine.begin() as conn:
        conn.execute(text("update alembic_version set version_num = '0099_from_the_future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="0099_from_the_future") as err:
        open_store(url)
    assert "newer Persona FM" in str(err.value)
    assert "Upgrade Persona FM" in str(err.value)


def test_a_migration_that_adds_nothing_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last safety net: a column still missing after migrating names its revision."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _make_old(url)
    monkeypatch.setattr(migrate, "add_missing", lambda columns: None)
    with pytest.raises(StoreError, match=r"lacks column\(s\).*migration 0\d+_\w+ did not add"):
        open_store(url)


def test_processes_opening_an_older_database_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _make_old(url)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", RACE, url, str(go)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(4)
    ]  # fmt: skip
    time.sleep(4)  # every process has imported the project and waits
    go.touch()
    outs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, "\n".join(outs)
    engine = open_store(url)
    try:
        assert _version(engine) == [migrate.head()]
        assert not ADDED - {(t, c) for t, cols in _columns(engine).items() for c in cols}
    finally:
        engine.dispose()
