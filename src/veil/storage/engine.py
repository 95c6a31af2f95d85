"""The database engine: ``VEIL_DB`` (a SQLAlchemy URL or a file path) or ``.veil/veil.db``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError

from veil.errors import ConfigError

DEFAULT_HOME = ".veil"


def veil_home() -> Path:
    """Where Veil keeps its local state (database, generated key): ``VEIL_HOME`` or ``./.veil``."""
    return Path(os.environ.get("VEIL_HOME") or DEFAULT_HOME)


def default_url() -> str:
    value = os.environ.get("VEIL_DB")
    if value and "://" in value:
        return value
    path = Path(value) if value else veil_home() / "veil.db"
    return f"sqlite:///{path}"


def open_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`); SQLite gets WAL, a busy timeout and IMMEDIATE writes."""
    url = url or default_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError:
                    raise ConfigError(
                        f"cannot create the folder of the vault database {path} (a file is in the way?)",
                        hint="set VEIL_HOME or VEIL_DB to a folder Veil may write",
                    ) from None
            engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
            _sqlite_setup(engine)
        else:
            # No automatic server-side prepares: a prepared generic plan for a 500-value IN (...) compares every
            # row with every value (it made batched token lookups 100x slower once the table grew).
            engine = create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise ConfigError(f"cannot open database {url!r}: {exc}") from None
    return engine


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front (no deadlock when two readers both try to upgrade);
        # readers begin deferred, and in WAL mode never wait for a writer.
        write = conn.get_execution_options().get("veil_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction (SQLite: BEGIN IMMEDIATE); commits on success, rolls back on error."""
    with engine.connect() as conn:
        conn.execution_options(veil_write=True)
        with conn.begin():
            yield conn
