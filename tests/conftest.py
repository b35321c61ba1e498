"""Fixtures: a fresh SQLite store per test, and a real PostgreSQL server for the session.

Tests never write into the working tree: event logs and the default store go to a
temporary folder (``PERSONAFM_LOG_DIR``), and the session fails if a test leaves a new
file in the checkout anyway.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from personafm.pgserver import NoPostgres, throwaway_postgres
from personafm.runner import run_scenario  # noqa: F401  (registers every table)
from sim.store import open_store
from testkit.servers import llama_server_fixture

REPO = Path(__file__).resolve().parent.parent
_LOGS = tempfile.TemporaryDirectory(prefix="personafm-test-logs-")
os.environ["PERSONAFM_LOG_DIR"] = _LOGS.name  # before any command reads its defaults
_TOOL_CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".venv")


def _untracked() -> set[str] | None:
    """Files in the checkout that git does not track (ignored ones included)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "--others", "--directory"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout: nothing to compare
    return {
        p for p in listed.splitlines() if not any(part in _TOOL_CACHES for part in Path(p).parts)
    }


_BEFORE = _untracked()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if the tests left new files in the working tree."""
    if _BEFORE is None or hasattr(session.config, "workerinput"):
        return
    new = sorted((_untracked() or set()) - _BEFORE)
    if new:
        shown = ", ".join(new[:10]) + (f" and {len(new) - 10} more" if len(new) > 10 else "")
        session.config.get_terminal_writer().line(
            f"tests wrote into the working tree: {shown}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
