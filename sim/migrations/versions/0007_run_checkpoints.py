"""Crash safety: the process running a run, its last sign of life, and the last consistent
point (every event up to simulated time checkpoint_s stored: checkpoint_events rows)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sim.migrate import add_missing

revision = "0007_run_checkpoints"
down_revision = "0006_sections"
branch_labels = None
depends_on = None


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {
        "runs": [
            sa.Column("owner", sa.String(), nullable=False, server_default=sa.text("''")),
            sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("checkpoint_s", sa.Float(), nullable=True),
            sa.Column("checkpoint_events", sa.Integer(), nullable=False,
                      server_default=sa.text("0")),
        ]
    }  # fmt: skip


def upgrade() -> None:
    add_missing(columns())


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
