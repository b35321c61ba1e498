"""Hosted providers: the scenario as run, the price table and cost of a run, and the cost and
source (live or replayed) of each model call."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sim.migrate import add_missing

revision = "0004_costs"
down_revision = "0003_market"
branch_labels = None
depends_on = None


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {
        "runs": [
            sa.Column("scenario_json", sa.String(), nullable=False, server_default=sa.text("''")),
            sa.Column("price_table", sa.String(), nullable=False, server_default=sa.text("''")),
            sa.Column("cost_usd", sa.Float(), nullable=False, server_default=sa.text("0")),
        ],
        "model_calls": [
            sa.Column("cost_usd", sa.Float(), nullable=True),  # None: no price known
            sa.Column("source", sa.String(), nullable=False, server_default=sa.text("'live'")),
        ],
    }


def upgrade() -> None:
    add_missing(columns())


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
