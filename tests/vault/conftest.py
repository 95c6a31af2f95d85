"""The vault suite runs against SQLite and against a real PostgreSQL started on loopback (marked service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from veil.storage import testing
from veil.vault import MasterKey, Vault


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vault.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    with testing.fresh_database(server) as url:
        yield url


@pytest.fixture
def vault(db_url: str) -> Iterator[Vault]:
    v = Vault(db_url, master_key=MasterKey(b"t" * 32, "test"))
    yield v
    v.close()
