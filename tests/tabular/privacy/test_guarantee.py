"""A table policy can require a guarantee: the output is checked before it is committed, or nothing is written."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from veil.anonymizer import Anonymizer
from veil.detect import Detector
from veil.errors import ConfigError, PolicyError, ReleaseRefused
from veil.policy import load_policy
from veil.policy.model import Policy
from veil.tabular.location import parse_location
from veil.tabular.pipeline import anonymize_table
from veil.tabular.privacy.guarantee import ReleaseCheck
from veil.tabular.privacy.models import build_models
from veil.vault import Vault

ROWS = pl.DataFrame({
    "zip": ["94043", "94043", "94043", "94044", "94044", "94044", "10115", "10115"],
    "age": ["31", "35", "38", "42", "47", "44", "23", "29"],
    "diagnosis": ["flu", "asthma", "flu", "flu", "cancer", "asthma", "flu", "flu"],
})  # fmt: skip


def _policy(require: dict[str, object]) -> Policy:
    return Policy.model_validate({
        "detection": {"ner": False},
        "columns": {"zip": {"operator": "generalize"}, "age": {"operator": "keep"}, "diagnosis": {"operator": "keep"}},
        "tables": {"sample_rows": 10, "require": require},
    })  # fmt: skip


def _run(tmp_path: Path, vault: Vault, require: dict[str, object]) -> tuple[Path, object]:
    src = tmp_path / "in.csv"
    ROWS.write_csv(src)
    out = tmp_path / "out.csv"
    anonymizer = Anonymizer(_policy(require), vault=vault, detector=Detector(ner=False))
    report = anonymize_table(parse_location(str(src)), parse_location(str(out)), anonymizer)
    return out, report


def test_release_only_if_k_holds(tmp_path: Path, vault: Vault) -> None:
    out, report = _run(tmp_path, vault, {"quasi_identifiers": ["zip"], "k": 2})
    assert out.exists() and report.guarantee["smallest_class"] >= 2  # type: ignore[attr-defined]
    out.unlink()
    with pytest.raises(ReleaseRefused, match=r"k-anonymity \(k=5\) on zip: .* nothing was written"):
        _run(tmp_path, vault, {"quasi_identifiers": ["zip"], "k": 5})
    assert not out.exists() and not [p for p in tmp_path.iterdir() if "out" in p.name]


def test_l_diversity_requirement(tmp_path: Path, vault: Vault) -> None:
    with pytest.raises(ReleaseRefused, match="distinct-l-diversity"):
        _run(tmp_path, vault, {"quasi_identifiers": ["zip"], "l": 3, "sensitive": "diagnosis"})
    out, _ = _run(tmp_path, vault, {"quasi_identifiers": ["zip"], "l": 1, "sensitive": "diagnosis", "t": 0.9})
    assert out.exists()


def test_requirement_is_validated(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("tables:\n  require:\n    l: 2\n")
    with pytest.raises(PolicyError, match=r"line 2, key 'tables.require'.*sensitive column"):
        load_policy(policy)
    policy.write_text("tables:\n  require: {}\n")
    with pytest.raises(PolicyError, match="require needs k, l or t"):
        load_policy(policy)
    with pytest.raises(ConfigError, match="sensitive"):
        build_models(t=0.2)


def test_streamed_counts_equal_one_pass() -> None:
    check = ReleaseCheck(["zip"], build_models(k=2))
    for i in range(0, ROWS.height, 3):
        check.add(ROWS.slice(i, 3))
    found = check.verify()
    assert found["classes"] == 3 and found["smallest_class"] == 2
