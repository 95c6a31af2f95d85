"""The ledger runs against SQLite and a real PostgreSQL on loopback (marked service)."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest

from tests.conftest import SHARED
from veil.vault import MasterKey, Vault

KEY = MasterKey(b"d" * 32, "test")


@pytest.fixture
def dp_vault(db_url: str) -> Iterator[Vault]:
    v = Vault(db_url, master_key=KEY)
    yield v
    v.close()


@pytest.fixture(scope="session")
def adult() -> pl.DataFrame:
    return pl.read_csv(SHARED / "tabular" / "arx-adult" / "adult.csv", separator=";", infer_schema=False)
