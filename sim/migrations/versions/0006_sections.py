"""Market sections and the harness: what an as-run segment answers (ref), the harness a
station ran with, how a message came in (mail or call-in), and an outcome's detail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sim.migrate import add_missing

revision = "0006_sections"
down_revision = "0005_bigint_seeds"
branch_labels = None
depends_on = None


def columns() -> dict[str, list[sa.Column[Any]]]:
    return {
        "asrun": [sa.Column("ref", sa.String(), nullable=True)],
        "stations": [
            sa.Column("harness_json", sa.String(), nullable=False, server_default=sa.text("'{}'"))
        ],
        "messages": [
            sa.Column("via", sa.String(), nullable=False, server_default=sa.text("'mail'"))
        ],
        "message_outcomes": [
            sa.Column("detail", sa.String(), nullable=False, server_default=sa.text("''"))
        ],
    }


def upgrade() -> None:
    add_missing(columns())


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
