"""Policy + purpose -> column actions -> streamed, atomic anonymization with a report and an audit record."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veil.anonymizer import Anonymizer
from veil.detect import Detector
from veil.detect.columns import ColumnClassifier
from veil.errors import InputError
from veil.policy.model import Policy
from veil.tabular.location import parse_location
from veil.tabular.pipeline import TablePipeline, anonymize_table, profile_frame
from veil.tabular.plan import plan_columns
from veil.vault import Vault

PEOPLE = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C1"],
        "email": ["ann@example.com", "bob@example.org", None, "ann@example.com"],
        "birth_date": ["1980-02-03", "1991-12-30", "1975-07-01", "1980-02-03"],
        "zip": ["94043", "10115", "02134", "94043"],
        "diagnosis": ["flu", "asthma", "flu", "flu"],
        "notes": [
            "Ann called from +1 415 555 0173 about her card 4111 1111 1111 1111.",
            "Bob wants a refund to IBAN DE89 3704 0044 0532 0130 00 next week.",
            None,
            "Ann called from +1 415 555 0173 about her card 4111 1111 1111 1111.",
        ],
        "qty": [1, 2, 3, 4],
    }
)
POLICY = {
    "detection": {"ner": False},
    "default": {"operator": "pseudonymize"},
    "purposes": {
        "research": {"columns": ["customer_id", "birth_date", "zip", "diagnosis", "q*"], "keep": []},
        "support": {"keep": ["EMAIL_ADDRESS"]},
    },
    "columns": {"customer_id": {"operator": "pseudonymize", "format": "User{n:05d}"}, "no*": {"operator": "text"}},
    "tables": {"sample_rows": 10},
}


@pytest.fixture
def anonymizer(vault: Vault) -> Anonymizer:
    return Anonymizer(Policy.model_validate(POLICY), vault=vault, detector=Detector(ner=False))


def _plan(anonymizer: Anonymizer, purpose: str | None) -> dict[str, str]:
    profiles = profile_frame(PEOPLE, ColumnClassifier(anonymizer.detector))
    return {a.column: a.summary for a in plan_columns(anonymizer.policy, profiles, purpose)}


def test_plan_by_rule_role_and_purpose(anonymizer: Anonymizer) -> None:
    assert _plan(anonymizer, None) == {
        "customer_id": "pseudonymize(format=User{n:05d})",  # columns rule
        "email": "pseudonymize",  # identifier: default rule
        "birth_date": "generalize",  # quasi-identifier: generalized
        "zip": "generalize",
        "diagnosis": "keep",  # sensitive: kept for analysis
        "notes": "text",  # glob rule
        "qty": "keep",
    }
    research = _plan(anonymizer, "research")
    assert research["email"] == "drop" and research["notes"] == "drop" and research["qty"] == "keep"
    assert _plan(anonymizer, "support")["email"] == "keep"


def test_pipeline_output(anonymizer: Anonymizer) -> None:
    profiles = profile_frame(PEOPLE, ColumnClassifier(anonymizer.detector))
    out = TablePipeline(anonymizer, plan_columns(anonymizer.policy, profiles), None).apply(PEOPLE)
    assert out["customer_id"].to_list() == ["User00001", "User00002", "User00003", "User00001"]
    assert out["email"].to_list()[2] is None and out["email"][0] == out["email"][3] != "ann@example.com"
    assert out["birth_date"].to_list() == ["1980", "1991", "1975", "1980"]
    assert out["zip"].to_list() == ["940**", "101**", "021**", "940**"]
    assert out["qty"].dtype == pl.Int64 and out["diagnosis"].to_list() == PEOPLE["diagnosis"].to_list()
    text = " ".join(v for v in out["notes"].to_list() if v)
    for secret in ("415 555 0173", "4111 1111 1111 1111", "DE89 3704"):
        assert secret not in text
    # The same vault and scope: a table pseudonym restores like a text one, and matches the text anonymizer.
    assert anonymizer.restore(out["email"][0]) == "ann@example.com"
    assert anonymizer.anonymize("mail ann@example.com").text == f"mail {out['email'][0]}"


def test_end_to_end_streams_batches_and_reports(anonymizer: Anonymizer, tmp_path: Path) -> None:
    src = tmp_path / "people.parquet"
    PEOPLE.write_parquet(src)
    dst = parse_location(f"sqlite:///{tmp_path / 'out.db'}#people")
    report = anonymize_table(parse_location(str(src)), dst, anonymizer, purpose="research", batch_rows=1)
    assert (report.rows_in, report.rows_out) == (4, 4)
    doc = report.to_dict()
    assert doc["dropped"] == ["email", "notes"]
    assert {c["column"]: c["action"] for c in doc["columns"]}["zip"] == "generalize"
    from veil.tabular.readers import TableReader

    with TableReader(dst) as reader:
        back = pl.concat(list(reader.batches()))
    assert back.columns == ["customer_id", "birth_date", "zip", "diagnosis", "qty"]
    assert back["customer_id"].to_list() == ["User00001", "User00002", "User00003", "User00001"]
    last = list(anonymizer.vault.audit.records())[-1]
    assert last["action"] == "anonymize-table" and "ann@" not in str(last)


def test_errors_before_any_output(anonymizer: Anonymizer, tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    PEOPLE.write_csv(src)
    out = tmp_path / "o.csv"
    from veil.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown purpose 'nope'"):
        anonymize_table(parse_location(str(src)), parse_location(str(out)), anonymizer, purpose="nope")
    anonymizer.policy.purposes["nothing"] = anonymizer.policy.purposes["research"].model_copy(
        update={"columns": ["zz"]}
    )
    with pytest.raises(InputError, match="needs none of the columns"):
        anonymize_table(parse_location(str(src)), parse_location(str(out)), anonymizer, purpose="nothing")
    assert not out.exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@example\.(com|org)", fullmatch=True), st.integers(0, 99)),
        min_size=1,
        max_size=30,
    )
)
def test_no_email_survives_and_every_cell_restores(anonymizer: Anonymizer, rows: list[tuple[str, int]]) -> None:
    frame = pl.DataFrame({"email": [r[0] for r in rows], "n": [r[1] for r in rows]})
    profiles = profile_frame(frame, ColumnClassifier(anonymizer.detector))
    out = TablePipeline(anonymizer, plan_columns(anonymizer.policy, profiles), None).apply(frame)
    cells = out["email"].to_list()
    assert not set(cells) & set(frame["email"].to_list())
    assert [anonymizer.restore(c) for c in cells] == frame["email"].to_list()


def test_worker_processes_give_the_same_output(anonymizer: Anonymizer, tmp_path: Path) -> None:
    big = pl.concat([PEOPLE] * 50)
    src = tmp_path / "big.csv"
    big.write_csv(src)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    anonymize_table(parse_location(str(src)), parse_location(str(one)), anonymizer, batch_rows=30)
    report = anonymize_table(parse_location(str(src)), parse_location(str(two)), anonymizer, batch_rows=30, n_process=2)
    assert report.rows_out == 200
    assert one.read_text() == two.read_text()
