"""Fixtures: a fresh SQLite store per test, and a real PostgreSQL server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from personafm.pgserver import NoPostgres, throwaway_postgres
from personafm.runner import run_scenario  # noqa: F401  (registers every table)
from sim.store import open_store
from tests.servers import llama_server_fixture

# one real OpenAI-compatible llama.cpp server (SmolLM2) for the whole session, started on use
llama_server_url = llama_server_fixture()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``PERSONAFM_TEST_PG_URL`` if set, else a throwaway local server started here."""
    if url := os.environ.get("PERSONAFM_TEST_PG_URL"):
        yield url
        return
    try:
        with throwaway_postgres() as url:
            yield url
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
