"""Several processes on one new database: the schema is created once, safely, and every
run completes; the composite indexes readers rely on exist."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from sim.store import open_store
from testkit.helpers import scripted_toml

ROOT = Path(__file__).resolve().parents[1]


def _start_runs(scenario: Path, url: str, n: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "personafm.cli",
                "run",
                str(scenario),
                "--db",
                url,
                "--quiet",
                "--seed",
                str(seed),
                "--log-dir",
                str(logs),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for seed in range(1, n + 1)
    ]


RACE = """
import sys, time
from pathlib import Path
import personafm.runner  # registers every table
from sim.store import open_store
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
open_store(sys.argv[1]).dispose()
"""


@pytest.mark.parametrize("processes", [8])
def test_processes_opening_a_new_database_at_the_same_instant_all_succeed(
    tmp_path: Path, processes: int
) -> None:
    """The race itself: every process is ready, then all create the schema at once."""
    go = tmp_path / "go"
    url = f"sqlite:///{tmp_path}/race.db"
    procs = [
        subprocess.Popen([sys.executable, "-c", RACE, url, str(go)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(processes)
    ]  # fmt: skip
    time.sleep(4)  # every process has imported the project and waits
    go.touch()
    outs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * processes, "\n".join(outs)


def test_four_runs_starting_together_on_a_new_sqlite_file_all_complete(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(scripted_toml(hours=6, stations=2), encoding="utf-8")
    url = f"sqlite:///{tmp_path}/new.db"
    procs = _start_runs(scenario, url, 4, tmp_path / "logs")
    outs = [p.communicate(timeout=180)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], "\n".join(outs)
    with open_store(url).connect() as conn:
        statuses = conn.execute(text("select status from runs")).scalars().all()
    assert sorted(statuses) == ["finished"] * 4


@pytest.mark.postgres
def test_four_processes_create_the_schema_of_a_new_postgres_database(
    postgres_url: str, tmp_path: Path
) -> None:
    from personafm.pgserver import new_database

    url = new_database(postgres_url, "race")
    scenario = tmp_path / "s.toml"
    scenario.write_text(scripted_toml(hours=2, stations=1), encoding="utf-8")
    procs = _start_runs(scenario, url, 4, tmp_path / "logs")
    outs = [p.communicate(timeout=180)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], "\n".join(outs)


def test_readers_indexes_exist_on_new_and_older_databases(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    engine = open_store(url)
    with engine.begin() as conn:  # an older database: the index is missing
        conn.execute(text("drop index ix_asrun_run_station_seq"))
    engine.dispose()
    engine = open_store(url)  # opening adds what is missing
    names = {ix["name"] for ix in inspect(engine).get_indexes("asrun")}
    assert "ix_asrun_run_station_seq" in names
    for table, index in (("model_calls", "ix_model_calls_run_seq"),
                         ("ratings", "ix_ratings_run_station_quarter"),
                         ("messages", "ix_messages_run_station_time")):  # fmt: skip
        assert index in {ix["name"] for ix in inspect(engine).get_indexes(table)}
