"""Alembic environment: migrations run on the connection Veil hands over (see veil.storage.migrate)."""

from alembic import context

from veil.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
