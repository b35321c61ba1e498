"""The run store on a real PostgreSQL server: same rows as SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from personafm.export import whats
from sim.store import open_store
from testkit.helpers import export_rows, query_run, run, scripted_scenario

pytestmark = pytest.mark.postgres


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("run_id", "latency_s")} for r in rows]


def test_postgres_store_matches_sqlite(postgres_url: str, engine, tmp_path: Path) -> None:
    pg = open_store(postgres_url)
    try:
        scenario = scripted_scenario(hours=6, seed=9, stations=2)
        on_pg = run(scenario, pg, tmp_path)
        on_sqlite = run(scenario, engine, tmp_path)
        assert pg.dialect.name == "postgresql"
        for what in whats():
            a = _strip(export_rows(pg, on_pg.run_id, what))
            assert a == _strip(export_rows(engine, on_sqlite.run_id, what)), what
            assert a or what == "contracts", f"{what}: nothing to compare"
        again = run(scenario, pg, tmp_path)  # blobs are shared across runs: no conflict
        assert again.status == "finished"
    finally:
        pg.dispose()


def test_the_largest_seeds_are_stored_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """Seeds go up to 2**63 - 1: the columns are 64-bit on PostgreSQL, whose INTEGER is not."""
    pg = open_store(postgres_url)
    biggest = 2**63 - 1
    try:
        scenario = scripted_scenario(hours=0.5, seed=biggest, stations=1)
        scenario.stations[0].seed = biggest
        result = run(scenario, pg, tmp_path)
        assert result.status == "finished"
        seeds = query_run(
            pg,
            "select r.seed, s.seed from runs r join stations s on s.run_id = r.id where r.id = :r",
            result.run_id,
        )
        assert seeds == [(biggest, biggest)]
    finally:
        pg.dispose()
