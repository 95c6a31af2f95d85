from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from tests.conftest import SHARED
from veil.tabular.privacy import Encoded, load_directory

ADULT = SHARED / "tabular" / "arx-adult"


@pytest.fixture(scope="session")
def adult() -> pl.DataFrame:
    return pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)


@pytest.fixture(scope="session")
def adult_hierarchies(adult: pl.DataFrame) -> dict[str, Any]:
    return load_directory(ADULT / "hierarchies", adult.columns)


@pytest.fixture(scope="session")
def adult_all(adult: pl.DataFrame, adult_hierarchies: dict[str, Any]) -> Encoded:
    """All nine columns as quasi-identifiers (ARX's k-anonymity tests)."""
    return Encoded(adult, adult.columns, adult_hierarchies)


@pytest.fixture(scope="session")
def adult_occupation(adult: pl.DataFrame, adult_hierarchies: dict[str, Any]) -> Encoded:
    """Occupation as the sensitive attribute, the other eight as quasi-identifiers."""
    qis = [c for c in adult.columns if c != "occupation"]
    return Encoded(adult, qis, adult_hierarchies, sensitive="occupation")
