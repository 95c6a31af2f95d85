"""Parsing table sources and sinks."""

from __future__ import annotations

import pytest

from veil.errors import InputError
from veil.tabular.location import parse_location


@pytest.mark.parametrize(
    ("text", "kind", "table"),
    [
        ("people.csv", "csv", None),
        ("people.TSV", "csv", None),
        ("people.parquet", "parquet", None),
        ("people.ndjson", "jsonl", None),
        ("sqlite:///crm.db#customers", "sql", "customers"),
        ("crm.sqlite#customers", "sql", "customers"),
        ("postgresql://u:secret@h/db#public.customers", "sql", "public.customers"),
        ("duckdb:///w.duckdb#events", "duckdb", "events"),
        ("w.duckdb#events", "duckdb", "events"),
    ],
)
def test_forms(text: str, kind: str, table: str | None) -> None:
    loc = parse_location(text)
    assert (loc.kind, loc.table) == (kind, table)


def test_tsv_separator_and_passwords_hidden() -> None:
    assert parse_location("a.tsv").separator == "\t"
    loc = parse_location("postgresql://u:secret@h/db#t")
    assert loc.target.startswith("postgresql+psycopg://") and "secret" not in str(loc)


def test_table_option_overrides_and_schema() -> None:
    loc = parse_location("sqlite:///x.db#a", table="s.b")
    assert (loc.table, loc.schema, loc.bare_table) == ("s.b", "s", "b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("book.xlsx", "spreadsheets"),
        ("data.bin", "cannot tell the format"),
        ("sqlite:///x.db", "which table"),
        ("sqlite:///x.db#drop table", "not a table name"),
        ("mysql://h/db#t", "unsupported database URL scheme"),
        ("  ", "no table source"),
    ],
)
def test_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_location(text)
