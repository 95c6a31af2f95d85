"""The vault suite runs against SQLite and against a real PostgreSQL started on loopback (marked service)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from veil.vault import MasterKey, Vault


@pytest.fixture
def vault(db_url: str) -> Iterator[Vault]:
    v = Vault(db_url, master_key=MasterKey(b"t" * 32, "test"))
    yield v
    v.close()
