"""Baseline: the tables as the first Persona FM made them with ``create_all`` (runs, blobs,
model_calls, faults, asrun, turns, stations, ledger).

Nothing to run: ``open_store`` creates a new database whole and stamps it at head, and
stamps a database from before migrations here so that every later revision runs on it.
"""

from __future__ import annotations

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Tables are made by ``create_all``, never by a revision."""


def downgrade() -> None:
    raise NotImplementedError("Persona FM never downgrades a database")
