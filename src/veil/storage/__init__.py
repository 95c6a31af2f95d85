"""Storage: one SQLAlchemy engine, an embedded SQLite file by default, PostgreSQL by URL."""

from veil.storage.engine import default_url, open_engine, write_tx

__all__ = ["default_url", "open_engine", "write_tx"]
