"""Kernel tables and the database engine.

SQLite under ``logs/`` by default, any SQLAlchemy URL (e.g. PostgreSQL) otherwise.
Domain packages declare their own tables; ``open_store`` creates every table
registered in ``SQLModel.metadata`` at the time it is called, so the
composition root imports the domains first.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from sqlalchemy import BigInteger, Engine, Index, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, SQLModel, create_engine

DEFAULT_DB_URL = "sqlite:///logs/personafm.db"


def utcnow() -> datetime:
    return datetime.now(UTC)


class StationRecord(SQLModel):
    """Columns every per-station, per-run table starts with."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    station: str


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    name: str
    scenario_path: str = ""
    scenario_toml: str = ""
    seed: int = Field(sa_type=BigInteger)  # up to 2**63 - 1: PostgreSQL's INTEGER is 32-bit
    sim_start: str
    sim_hours: float
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = "running"
    wall_s: float | None = None
    events: int = 0
    parent_run_id: str | None = None
    fork_at_s: float | None = None
    scenario_json: str = ""  # the scenario as run (file, overrides and patches applied)
    price_table: str = ""  # version of the price table calls were costed with
    cost_usd: float = 0.0


class BlobRow(SQLModel, table=True):
    """Content-addressed text (system prompts, schemas), stored once across runs."""

    __tablename__ = "blobs"
    dedupe_on_insert: ClassVar[bool] = True

    sha256: str = Field(primary_key=True)
    text: str


class ModelCallRow(StationRecord, table=True):
    __tablename__ = "model_calls"
    __table_args__ = (Index("ix_model_calls_run_seq", "run_id", "seq"),)

    seq: int
    sim_time_s: float
    provider: str
    model: str
    system_prompt_sha256: str
    schema_sha256: str
    request_hash: str
    messages_json: str | None = None
    params_json: str = "{}"
    response_text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    ok: bool = True
    error: str | None = None
    finish_reason: str | None = None
    cost_usd: float | None = None  # None: the model has no price in the table
    source: str = "live"  # live | replay (served from a recorded run)


class FaultRow(StationRecord, table=True):
    __tablename__ = "faults"
    __table_args__ = (Index("ix_faults_run_station", "run_id", "station"),)

    sim_time_s: float
    kind: str
    detail: str


class StoreError(RuntimeError):
    """The database cannot be used as it is; the message says why and what to do."""


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cur = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA busy_timeout=10000")  # first: switching to WAL may wait for a lock
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def normalise_db_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def open_store(url: str = DEFAULT_DB_URL) -> Engine:
    """Create the engine (and the SQLite file's folder) and all registered tables."""
    url = normalise_db_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _create_schema(engine)
    _check_columns(engine, url)
    return engine


SCHEMA_TRIES = 20


def _create_schema(engine: Engine) -> None:
    """Create missing tables and indexes, safely when several processes open a new
    database at once: whoever loses a race to create a table (SQLite: "already exists" or
    "locked"; PostgreSQL: a duplicate type) looks again and finds it there."""
    for attempt in range(SCHEMA_TRIES):
        try:
            SQLModel.metadata.create_all(engine)
            for table in SQLModel.metadata.sorted_tables:  # indexes added to older tables
                for index in table.indexes:
                    index.create(engine, checkfirst=True)
            return
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == SCHEMA_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _check_columns(engine: Engine, url: str) -> None:
    """Refuse a database whose tables predate columns this version writes."""
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            where = make_url(url).render_as_string(hide_password=True)
            raise StoreError(
                f"{where}: table {table.name!r} lacks column(s) {', '.join(missing)}; it was "
                "written by an older Persona FM. Use another --db, or move the old file away."
            )
