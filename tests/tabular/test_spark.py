"""The Spark backend on a local[2] session gives the same output as the polars path (service: starts a JVM)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from veil.anonymizer import Anonymizer
from veil.detect import Detector
from veil.policy.model import Policy
from veil.tabular.location import parse_location
from veil.tabular.pipeline import anonymize_table
from veil.vault import MasterKey, Vault

pytest.importorskip("pyspark")
pytestmark = pytest.mark.service
ROOT = Path(__file__).resolve().parents[2]
KEY = b"k" * 32


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    import os
    import shutil

    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("Java is not installed (apt-get install openjdk-17-jre-headless): the Spark test needs it")
        pytest.skip("Java is not installed (apt-get install openjdk-17-jre-headless)")
    os.environ["VEIL_MASTER_KEY"] = base64.b64encode(KEY).decode()  # executors read the key from their env
    from veil.tabular.spark import local_session

    with local_session(2) as session:
        yield session


def test_spark_equals_polars(spark: object, tmp_path: Path) -> None:
    from veil.tabular.spark import anonymize_spark

    policy = Policy.model_validate(
        {
            "detection": {"ner": False},
            "default": {"operator": "pseudonymize"},
            "entities": {"CREDIT_CARD": {"operator": "mask", "keep_last": 4}, "PHONE_NUMBER": {"operator": "hash"}},
            "columns": {"customer_id": {"operator": "pseudonymize", "format": "User{n:05d}"}},
        }
    )
    vault = Vault(f"sqlite:///{tmp_path / 'vault.db'}", master_key=MasterKey(KEY, "VEIL_MASTER_KEY"))
    anonymizer = Anonymizer(policy, vault=vault, detector=Detector(ner=False))
    sample = ROOT / "examples" / "customers.csv"
    out = tmp_path / "polars.csv"
    anonymize_table(parse_location(str(sample)), parse_location(str(out)), anonymizer)
    expected = pl.read_csv(out, infer_schema=False)

    df = spark.read.csv(str(sample), header=True)  # type: ignore[attr-defined]
    result, actions = anonymize_spark(df.repartition(3), anonymizer)
    got = pl.from_pandas(result.toPandas()).sort("customer_id")
    assert got.columns == expected.columns
    assert got.to_dicts() == expected.sort("customer_id").to_dicts()
    assert {a.column: a.summary for a in actions}["credit_card"] == "mask(keep_last=4)"
    assert "@" not in " ".join(got["email"].to_list())
