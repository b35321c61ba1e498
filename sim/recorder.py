"""Batched writer: turns stored events into rows and inserts them in bulk.

Rows go through SQLAlchemy Core ``insert`` in batches (one transaction per
batch), which is what keeps a 100-station week inside the benchmark budget.

Batches are committed only at consistent points: ``checkpoint(now)`` is called by
the run loop when every event of the instant ``now`` has run (a whole station turn
and all it caused), and commits the buffered rows together with the run's
checkpoint (``runs.checkpoint_s``, ``checkpoint_events``) and heartbeat in one
transaction. A process killed at any moment leaves the store at its last
checkpoint, with nothing half-written; a resumed run replays the simulation and
skips the first ``skip`` stored events, which the store already holds.

Vocabulary members (``StrEnum`` s such as ``SegmentKind.TALK``) are stored as their
plain values ("talk") on every database: a driver that adapts an ``Enum`` by its
name would otherwise write "TALK".
"""

from __future__ import annotations

import time
from collections import defaultdict
from enum import Enum
from typing import Any

from sqlalchemy import Engine, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert, insert
from sqlmodel import SQLModel

from sim.events import Event
from sim.store import RunRow, utcnow


class Recorder:
    def __init__(
        self,
        engine: Engine,
        run_id: str,
        batch_rows: int = 20_000,
        max_wait_s: float = 1.0,
        skip: int = 0,
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self.batch_rows = batch_rows
        self.max_wait_s = max_wait_s  # readers of a growing run (attach) lag at most this
        self.skip = skip  # stored events the store already holds (a resumed run)
        self._last_flush = time.monotonic()
        self.rows_written = 0
        self.events_seen = 0  # stored events published so far (skipped ones included)
        self._buffer: dict[type[SQLModel], list[dict[str, Any]]] = defaultdict(list)
        self._pending = 0
        self._has_run_id: dict[type[SQLModel], bool] = {}

    def __call__(self, event: Event) -> None:
        table = event.table
        if table is None:
            return
        self.events_seen += 1
        if self.events_seen <= self.skip:
            return
        row = event.row()
        for key, value in row.items():
            if isinstance(value, Enum):
                row[key] = value.value
        has_run_id = self._has_run_id.get(table)
        if has_run_id is None:
            has_run_id = self._has_run_id[table] = "run_id" in _table(table).c
        if has_run_id:
            row["run_id"] = self.run_id
        self._buffer[table].append(row)
        self._pending += 1

    def checkpoint(self, now_s: float, events: int = 0) -> None:
        """Every event up to ``now_s`` has run: commit, if a batch is due (cheap otherwise)."""
        if (
            self._pending >= self.batch_rows
            or time.monotonic() - self._last_flush >= self.max_wait_s
        ):
            self.flush(now_s, events)

    def flush(self, now_s: float | None = None, events: int | None = None) -> None:
        """Commit the buffered rows; with ``now_s``, as the run's consistent point."""
        self._last_flush = time.monotonic()
        if not self._pending and now_s is None:
            return
        runs = RunRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            for table, rows in self._buffer.items():
                if rows:
                    conn.execute(self._insert(table), rows)
            if now_s is not None:
                values: dict[str, Any] = {
                    "checkpoint_s": now_s,
                    "checkpoint_events": self.events_seen,
                    "heartbeat_at": utcnow(),
                }
                if events is not None:
                    values["events"] = events
                conn.execute(update(runs).where(runs.c.id == self.run_id).values(**values))
        self.rows_written += self._pending
        self._buffer.clear()
        self._pending = 0

    def _insert(self, table: type[SQLModel]) -> Insert:
        t = _table(table)
        if not getattr(table, "dedupe_on_insert", False):
            return insert(t)
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(t).on_conflict_do_nothing()
        if dialect == "sqlite":
            return sqlite.insert(t).on_conflict_do_nothing()
        return insert(t).prefix_with("IGNORE")


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]
