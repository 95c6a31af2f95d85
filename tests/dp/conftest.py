"""The ledger runs against SQLite and a real PostgreSQL on loopback (marked service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import SHARED
from veil.storage import testing
from veil.vault import MasterKey, Vault

KEY = MasterKey(b"d" * 32, "test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vault.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    with testing.fresh_database(server) as url:
        yield url


@pytest.fixture
def dp_vault(db_url: str) -> Iterator[Vault]:
    v = Vault(db_url, master_key=KEY)
    yield v
    v.close()


@pytest.fixture(scope="session")
def adult() -> pl.DataFrame:
    return pl.read_csv(SHARED / "tabular" / "arx-adult" / "adult.csv", separator=";", infer_schema=False)
