"""stations.sim_time_s: when the station went on air, like every other event row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sim.migrate import add_missing

revision = "0002_station_sim_time"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {"stations": [sa.Column("sim_time_s", sa.Float(), nullable=False,
                                   server_default=sa.text("0"))]}  # fmt: skip


def upgrade() -> None:
    add_missing(columns())


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
