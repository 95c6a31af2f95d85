from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.detect.validators import credit_card, iban
from veil.errors import ConfigError, RegistryError
from veil.transform import TransformContext, make_operator, operator_names
from veil.transform.encrypt import decrypt
from veil.vault import MasterKey, Vault


@pytest.fixture
def ctx(vault: Vault) -> TransformContext:
    return TransformContext(vault=vault, scope="t")


def run(name: str, params: dict, entity: str, values: list[str], ctx: TransformContext) -> list[str]:  # type: ignore[type-arg]
    return make_operator(name, params).apply_many(values, entity, ctx)


def test_registry_names_every_operator() -> None:
    assert operator_names() == [
        "encrypt",
        "fake",
        "generalize",
        "hash",
        "keep",
        "mask",
        "pseudonymize",
        "redact",
        "replace",
    ]
    with pytest.raises(RegistryError, match="operators: encrypt"):
        make_operator("pseudonymise")


def test_simple_operators(ctx: TransformContext) -> None:
    assert run("redact", {}, "US_SSN", ["536-22-1234"], ctx) == [""]
    assert run("replace", {}, "US_SSN", ["x"], ctx) == ["<US_SSN>"]
    assert run("replace", {"value": "[{entity} removed]"}, "PERSON", ["x"], ctx) == ["[PERSON removed]"]
    assert run("keep", {}, "PERSON", ["Ann"], ctx) == ["Ann"]


def test_mask(ctx: TransformContext) -> None:
    assert run("mask", {"keep_last": 4}, "CREDIT_CARD", ["4111 1111 1111 1111"], ctx) == ["**** **** **** 1111"]
    assert run("mask", {"char": "#", "count": 3}, "PHONE_NUMBER", ["555-0173"], ctx) == ["###-0173"]
    assert run("mask", {"count": 2, "from_end": True}, "X", ["abcdef"], ctx) == ["abcd**"]
    assert run("mask", {"keep_first": 1}, "EMAIL_ADDRESS", ["ann@x.io"], ctx) == ["a**@*.**"]


def test_hash_is_keyed_and_consistent(ctx: TransformContext, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = run("hash", {}, "EMAIL_ADDRESS", ["a@b.co", "a@b.co", "c@d.co"], ctx)
    assert a[0] == a[1] != a[2] and len(a[0]) == 16
    other = TransformContext(
        vault=Vault(f"sqlite:///{tmp_path / 'o.db'}", master_key=MasterKey(b"o" * 32, "t")), scope="t"
    )
    assert run("hash", {}, "EMAIL_ADDRESS", ["a@b.co"], other) != a[:1]  # another key, another hash
    import hashlib

    assert hashlib.sha256(b"a@b.co").hexdigest()[:16] != a[0]  # not a plain, reversible-by-lookup hash


def test_pseudonymize_formats(ctx: TransformContext) -> None:
    assert run("pseudonymize", {}, "PERSON", ["Ann", "Bo", "Ann"], ctx) == ["<PERSON_1>", "<PERSON_2>", "<PERSON_1>"]
    assert run("pseudonymize", {"format": "User{n:05d}"}, "USER", ["Ann"], ctx) == ["User00001"]
    with pytest.raises(ConfigError, match=r"needs \{n\} or \{hash\}"):
        make_operator("pseudonymize", {"format": "<PERSON>"})


def test_fake_is_realistic_consistent_and_valid(ctx: TransformContext) -> None:
    cards = run("fake", {}, "CREDIT_CARD", ["4111 1111 1111 1111", "4111 1111 1111 1111", "378282246310005"], ctx)
    assert cards[0] == cards[1] != "4111 1111 1111 1111"
    assert credit_card(cards[0]) and credit_card(cards[2]) and len(cards[2]) == 15
    assert [len(g) for g in cards[0].split(" ")] == [4, 4, 4, 4]  # grouping kept
    (phone,) = run("fake", {}, "PHONE_NUMBER", ["+1 (415) 555-2671"], ctx)
    assert phone.startswith("+1 (") and len(phone) == len("+1 (415) 555-2671") and phone != "+1 (415) 555-2671"
    (ib,) = run("fake", {"locale": "de_DE"}, "IBAN_CODE", ["DE89370400440532013000"], ctx)
    assert iban(ib)
    assert run("fake", {}, "UNKNOWN_THING", ["x"], ctx) == ["<UNKNOWN_THING>"]
    with pytest.raises(ConfigError, match="locale"):
        run("fake", {"locale": "xx_YY"}, "PERSON", ["Ann"], ctx)


@pytest.mark.parametrize(
    ("params", "entity", "value", "want"),
    [
        ({}, "DATE_TIME", "12/03/1985", "1985"),
        ({}, "DATE_TIME", "March 3, 2020", "2020"),
        ({"date": "month"}, "DATE_TIME", "2024-02-29", "2024-02"),
        ({"date": "month"}, "DATE_TIME", "3rd of March 2020", "2020-03"),
        ({"date": "decade"}, "DATE_TIME", "1985-03-12", "1980s"),
        ({}, "DATE_TIME", "no year here", "<DATE_TIME>"),
        ({"width": 10}, "AGE", "37", "30-39"),
        ({"digits": 3}, "ZIP_CODE", "94043", "940**"),
        ({"digits": 2}, "ZIP_CODE", "SW1A 1AA", "SW** ***"),
        ({}, "STREET_ADDRESS", "1600 Amphitheatre Parkway, Mountain View, CA 94043", "Mountain View, CA"),
        ({}, "STREET_ADDRESS", "Hauptstraße 5, 10115 Berlin", "Berlin"),
        ({}, "STREET_ADDRESS", "12 Main St Apt 4, Springfield\nIL 62704", "Springfield, IL"),
        ({}, "STREET_ADDRESS", "12 Main St", "<STREET_ADDRESS>"),
        ({"decimals": 2}, "COORDINATES", "37.42199, -122.08405", "37.42, -122.08"),
    ],
)
def test_generalize(ctx: TransformContext, params: dict, entity: str, value: str, want: str) -> None:  # type: ignore[type-arg]
    assert run("generalize", params, entity, [value], ctx) == [want]


def test_encrypt_round_trip_and_determinism(ctx: TransformContext) -> None:
    det = run("encrypt", {}, "US_SSN", ["536-22-1234", "536-22-1234"], ctx)
    assert det[0] == det[1] and det[0].startswith("enc:")
    rnd = run("encrypt", {"deterministic": False}, "US_SSN", ["536-22-1234", "536-22-1234"], ctx)
    assert rnd[0] != rnd[1]
    assert {decrypt(t, ctx) for t in det + rnd} == {"536-22-1234"}


def test_bad_parameters_name_the_operator_and_key() -> None:
    with pytest.raises(ConfigError, match="operator 'mask': parameter 'char'"):
        make_operator("mask", {"char": "**"})
    with pytest.raises(ConfigError, match="operator 'hash': parameter 'colour'"):
        make_operator("hash", {"colour": 1})


def test_column_form_matches_text_form(ctx: TransformContext) -> None:
    df = pl.DataFrame({"email": ["a@b.co", None, "c@d.co", "a@b.co"], "card": ["4111 1111 1111 1111", "x", None, "y"]})
    out = df.select(
        make_operator("pseudonymize").expr("email", "EMAIL_ADDRESS", ctx).alias("email"),
        make_operator("mask", {"keep_last": 4}).expr("card", "CREDIT_CARD", ctx).alias("card"),
    )
    assert out["email"].to_list() == ["<EMAIL_ADDRESS_1>", None, "<EMAIL_ADDRESS_2>", "<EMAIL_ADDRESS_1>"]
    assert out["card"].to_list() == ["**** **** **** 1111", "*", None, "*"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="0123456789ABCxyz é-/ ", max_size=14)), min_size=1, max_size=20),
    st.integers(0, 5),
    st.integers(0, 5),
)
def test_vectorized_column_forms_equal_the_per_value_forms(values: list[str | None], first: int, last: int) -> None:
    ctx = TransformContext()
    series = pl.Series("c", values, dtype=pl.Utf8)
    cases = [
        (make_operator("mask", {"keep_first": first, "keep_last": last}), "CREDIT_CARD"),
        (make_operator("generalize", {"digits": first}), "ZIP_CODE"),
        (make_operator("generalize", {"date": "month"}), "DATE_TIME"),
    ]
    for op, entity in cases:
        expected = [None if v is None else op.apply_many([v], entity, ctx)[0] for v in values]
        assert op.apply_series(series, entity, ctx).to_list() == expected
    dates = pl.Series("d", ["1980-02-03", None, "2001-12-31", "3/4/1999"])
    op = make_operator("generalize", {"date": "decade"})
    assert op.apply_series(dates, "DATE_TIME", ctx).to_list() == ["1980s", None, "2000s", "1990s"]
