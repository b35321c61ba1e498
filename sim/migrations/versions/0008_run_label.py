"""A run's label: free text that tells runs of one scenario apart (`--label`, an
experiment's arm and seed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sim.migrate import add_missing

revision = "0008_run_label"
down_revision = "0007_run_checkpoints"
branch_labels = None
depends_on = None


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {"runs": [sa.Column("label", sa.String(), nullable=False, server_default=sa.text("''"))]}


def upgrade() -> None:
    add_missing(columns())


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
