"""Seeds up to 2**63 - 1: runs.seed and stations.seed become BIGINT. SQLite's INTEGER is
already 64-bit, so only other databases (PostgreSQL's INTEGER is 32-bit) are altered."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_bigint_seeds"
down_revision = "0004_costs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    inspector = sa.inspect(bind)
    for table in ("runs", "stations"):
        if not inspector.has_table(table):
            continue
        seed = next(c for c in inspector.get_columns(table) if c["name"] == "seed")
        if not isinstance(seed["type"], sa.BigInteger):
            op.alter_column(table, "seed", type_=sa.BigInteger(), existing_type=seed["type"],
                            existing_nullable=seed["nullable"])  # fmt: skip


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
