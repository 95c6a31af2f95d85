from __future__ import annotations

from pathlib import Path

import pytest

from veil.detect import Detector

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
