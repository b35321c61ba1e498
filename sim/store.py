"""The runs table, the bases of stored facts, and the database engine.

SQLite under ``logs/`` by default, any SQLAlchemy URL (e.g. PostgreSQL) otherwise.
Stored facts are declared as events, whose tables ``sim.events.stored`` derives on
these bases; ``open_store`` creates every table registered in ``SQLModel.metadata``
at the time it is called, so the composition root imports the domains first. A database
written by an older Persona FM is migrated first (``sim.migrate``); one written by a newer
one is refused.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Connection, Engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, SQLModel, create_engine

from sim import migrate
from sim.paths import default_log_dir
from sim.text import excerpt

DB_FILE = "personafm.db"


def default_db_url() -> str:
    """The store a command uses without ``--db``: a SQLite file in the log folder."""
    return f"sqlite:///{default_log_dir() / DB_FILE}"


def db_url(text: str) -> str:
    """A ``--db`` value as a URL: a URL as given, a plain path as a SQLite file."""
    if "://" in text:
        return text
    if not text.strip():
        raise StoreError("--db: empty; give a file path (runs.db) or a URL (postgresql://…)")
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunRecord(SQLModel):
    """Columns every per-run table starts with."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)


class StationRecord(RunRecord):
    """Columns every per-station, per-run table starts with."""

    station: str


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    name: str
    label: str = ""  # free text that tells runs apart (an experiment's arm and seed)
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
    # crash safety: the process running it, its last sign of life, and the last consistent
    # point (every event up to simulated time checkpoint_s is stored: checkpoint_events rows)
    owner: str = ""  # host:pid
    heartbeat_at: datetime | None = None
    checkpoint_s: float | None = None
    checkpoint_events: int = 0


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


def open_store(url: str | None = None) -> Engine:
    """Create the engine (and the SQLite file's folder), migrate an older schema to this
    version's, and create all registered tables. ``url``: a URL or a SQLite file's path
    (``default_db_url()`` if not given)."""
    url = normalise_db_url(db_url(url) if url else default_db_url())
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"--db: {excerpt(url)} is not a database URL; give a file path (runs.db) or a URL "
            "such as sqlite:///runs.db or postgresql://user@host:5432/personafm"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        _create_schema(engine)
    except migrate.SchemaTooNew as exc:
        engine.dispose()
        raise StoreError(
            f"{_where(url)}: its schema is at revision {exc}, which this Persona FM does not "
            f"know (it knows up to {migrate.head()}); a newer Persona FM wrote it. Upgrade "
            "Persona FM to use it, or use another --db."
        ) from exc
    _check_columns(engine, url)
    return engine


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


SCHEMA_TRIES = 20


def _create_schema(engine: Engine) -> None:
    """Migrate, then create missing tables and indexes (``sim.migrate.upgrade``), safely when
    several processes open a database at once: they take turns under a schema lock, and one
    that still loses a race (SQLite: "locked" past the busy timeout; a process creating
    tables outside the lock) looks again and finds the schema there."""
    for attempt in range(SCHEMA_TRIES):
        try:
            migrate.upgrade(engine, _create_tables)
            return
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == SCHEMA_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _create_tables(conn: Connection) -> None:
    """Every registered table a database lacks, and indexes added to older tables."""
    SQLModel.metadata.create_all(conn)
    for table in SQLModel.metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _check_columns(engine: Engine, url: str) -> None:
    """Safety net after migrating: refuse a table still lacking a column this version
    writes, naming the migration that should have added it."""
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            adds = migrate.added_columns()
            failed = sorted({adds[table.name, m] for m in missing if (table.name, m) in adds})
            why = (
                f"migration {', '.join(failed)} did not add them"
                if failed
                else "no migration adds them"
            )
            engine.dispose()
            raise StoreError(
                f"{_where(url)}: table {table.name!r} lacks column(s) {', '.join(missing)} "
                f"after migrating to {migrate.head()}: {why}. Please report this; meanwhile "
                "use another --db."
            )
