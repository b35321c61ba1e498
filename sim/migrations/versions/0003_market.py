"""The living market: a turn's market decisions, and the transaction number that pairs the
two legs of a ledger transfer (0 on rows from before it was kept: not known)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sim.migrate import add_missing

revision = "0003_market"
down_revision = "0002_station_sim_time"
branch_labels = None
depends_on = None


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {
        "turns": [
            sa.Column("market_json", sa.String(), nullable=False, server_default=sa.text("'{}'"))
        ],
        "ledger": [sa.Column("txn", sa.Integer(), nullable=False, server_default=sa.text("0"))],
    }


def upgrade() -> None:
    add_missing(columns())


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
