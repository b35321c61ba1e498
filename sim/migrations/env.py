"""Alembic environment: online only, on the connection ``sim.migrate`` hands over, inside the
transaction and schema lock it already holds (so Alembic starts no transaction of its own)."""

from __future__ import annotations

from alembic import context

if context.is_offline_mode():
    raise RuntimeError("Persona FM migrates online only: open the database with open_store")

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
