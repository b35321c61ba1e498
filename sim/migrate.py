"""Schema versions: Alembic migrations run by ``open_store`` so older databases are upgraded
in place instead of refused.

The migration environment ships inside the package (``sim/migrations``); no ``alembic.ini``
is needed. Revisions are written by hand, one per change to an existing table in the
project's history. Each adds only what a table lacks, because a database made before
migrations existed may be anywhere in that history. Tables a database lacks entirely are
made whole by ``create_all`` afterwards, so revisions skip them.

Everything runs in one transaction that holds a schema lock (PostgreSQL: an advisory lock;
SQLite: ``BEGIN IMMEDIATE``), so processes opening one database at once take turns: the
first creates or upgrades it, the rest find it at head.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001_baseline"  # the tables as the first Persona FM made them
VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x50_46_4D_5F_53_43_48  # "PFM_SCH": one key for every Persona FM process


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Persona FM: its revision is unknown here."""

    def __init__(self, revisions: tuple[str, ...]) -> None:
        super().__init__(", ".join(revisions))
        self.revisions = revisions


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions shipped with this version, loaded once per process."""
    return ScriptDirectory.from_config(_config())


def head() -> str:
    rev = scripts().get_current_head()
    assert rev is not None, "sim/migrations/versions holds no revision"
    return rev


def added_columns() -> dict[tuple[str, str], str]:
    """(table, column) -> the revision that adds it, for every revision that adds columns."""
    found: dict[tuple[str, str], str] = {}
    for script in scripts().walk_revisions():
        columns = getattr(script.module, "columns", None)
        if columns is None:
            continue
        for table, cols in columns().items():
            for col in cols:
                found[(table, col.name)] = script.revision
    return found


def add_missing(columns: dict[str, list[sa.Column[Any]]]) -> None:
    """In a revision: add each column its table lacks. An older database may have some of
    them already; a table it lacks entirely is created whole after the migrations."""
    inspector = sa.inspect(op.get_bind())
    for table, cols in columns.items():
        if not inspector.has_table(table):
            continue
        have = {c["name"] for c in inspector.get_columns(table)}
        for col in cols:
            if col.name not in have:
                op.add_column(table, col)


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other Persona FM process changing the schema
    can share; committed on a clean exit, rolled back on an error."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        sqlite = engine.dialect.name == "sqlite" and hasattr(driver, "isolation_level")
        saved = driver.isolation_level if sqlite else None  # type: ignore[union-attr]
        try:
            if sqlite:  # pysqlite opens no transaction before DDL: open one that locks
                driver.isolation_level = None  # type: ignore[union-attr]
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite:
                driver.isolation_level = saved  # type: ignore[union-attr]


def upgrade(engine: Engine, create: Callable[[Connection], None]) -> None:
    """Bring the database to the head revision; ``create`` makes missing tables and indexes.

    A new database is created whole and stamped at head. One with a version table is
    upgraded from its revision. One with tables but no version table predates migrations:
    it is stamped at the baseline and every (idempotent) revision runs on it.
    Raises ``SchemaTooNew`` when the recorded revision is not one of ours.
    """
    scripts()  # load the revisions before taking the lock
    with schema_lock(engine) as conn:
        tables = set(sa.inspect(conn).get_table_names())
        cfg = _config(conn)
        if VERSION_TABLE in tables:
            current = MigrationContext.configure(conn).get_current_heads()
            unknown = tuple(r for r in current if not _known(r))
            if unknown:
                raise SchemaTooNew(unknown)
            if current != (head(),):
                command.upgrade(cfg, "head")
        elif tables:
            command.stamp(cfg, BASELINE)
            command.upgrade(cfg, "head")
        create(conn)
        if not tables:
            command.stamp(cfg, "head")


def _known(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except CommandError:  # alembic's ResolutionError is a CommandError
        return False
