from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from veil.detect import Detector
from veil.storage import testing

# CI explores a fixed set of examples (a red CI stops every landing); `make test-deep` explores new ones, many more
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def regex_detector() -> Detector:
    return Detector(ner=False)


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    os.environ.setdefault("VEIL_CACHE_DIR", str(tmp_path_factory.getbasetemp().parent / "veil-cache"))


@pytest.fixture
def vault(tmp_path):  # type: ignore[no-untyped-def]
    from veil.vault import MasterKey, Vault

    return Vault(f"sqlite:///{tmp_path / 'vault.db'}", master_key=MasterKey(b"t" * 32, "test"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A vault database: an SQLite file, and a fresh database on a real PostgreSQL on loopback (service)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vault.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    with testing.fresh_database(server) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    if not testing.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql): the service tests need it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with testing.postgres_server() as url:
        yield url
