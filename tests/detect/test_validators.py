from __future__ import annotations

import pytest

from veil.detect import validators as v
from veil.errors import RegistryError


def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "0" * (length - len(prefix) - 1)
    return next(body + d for d in "0123456789" if v.luhn_ok(body + d))


def verhoeff_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if v.verhoeff_ok(body + d))


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        luhn_complete("4", 13),
        luhn_complete("4", 19),  # 19-digit Visa
        "5555555555554444",
        "2221000000000009",  # Mastercard 2-series
        luhn_complete("2720", 16),
        "378282246310005",  # Amex
        "6011111111111117",  # Discover
        "3530111333300000",  # JCB
        luhn_complete("6759", 19),  # Maestro 19
        luhn_complete("5018", 12),  # Maestro 12
        luhn_complete("62", 19),  # UnionPay
        luhn_complete("2200", 16),  # Mir
        "36227206271667",  # Diners 14
    ],
)
def test_credit_card_valid(number: str) -> None:
    assert v.credit_card(number) is True


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111112",  # Luhn fails
        luhn_complete("1", 16),  # no network starts with 1
        luhn_complete("2721", 16),  # just past the Mastercard 2-series
        luhn_complete("4", 17),  # Visa has no 17-digit cards
        "0000000000000000",
        "12345",
    ],
)
def test_credit_card_invalid(number: str) -> None:
    assert v.credit_card(number) is False


def test_iban() -> None:
    assert v.iban("GB82 WEST 1234 5698 7654 32")
    assert v.iban("DE89370400440532013000")
    assert v.iban("fr1420041010050500013m02606")  # lower case is normalised
    assert not v.iban("GB82 WEST 1234 5698 7654 33")  # mod-97 fails
    assert not v.iban("DE8937040044053201300")  # wrong length for DE
    assert not v.iban("XX89370400440532013000")  # unknown country


def test_verhoeff_and_aadhaar() -> None:
    number = verhoeff_complete("23412341234")
    assert v.aadhaar(number)
    bad = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not v.aadhaar(bad)
    assert not v.aadhaar(verhoeff_complete("12345678901"))  # cannot start with 1


def test_nhs_mod11() -> None:
    assert v.nhs("943 476 5919")
    assert not v.nhs("943 476 5918")
    assert not v.nhs("0000000000")


def test_ssn_rules() -> None:
    assert v.us_ssn("536-22-1234")
    for bad in ("000-12-3456", "666-12-3456", "912-12-3456", "536-00-1234", "536-22-0000", "078-05-1120"):
        assert not v.us_ssn(bad), bad


def test_itin_groups() -> None:
    assert v.us_itin("912-70-1234")
    assert v.us_itin("912-94-1234")
    assert not v.us_itin("912-93-1234")
    assert not v.us_itin("812-70-1234")


def test_dates() -> None:
    assert v.date_numeric("2024-02-29")
    assert not v.date_numeric("2023-02-29")
    assert v.date_numeric("31/12/1999")
    assert v.date_numeric("12/31/1999")
    assert not v.date_numeric("31/31/1999")
    assert v.date_numeric("3 March") is None


def test_ip_and_email() -> None:
    assert v.ipv4("192.168.1.1") and not v.ipv4("0.0.0.0") and not v.ipv4("256.1.1.1")
    assert v.ipv6("2001:db8::1") and not v.ipv6("12:30:45")
    assert v.email("a.b@example.co.uk") and not v.email("a..b@example.com") and not v.email(".a@example.com")


def test_crypto_checksums() -> None:
    assert v.base58check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
    assert not v.base58check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3")
    assert v.bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    assert not v.bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp")


def test_phone() -> None:
    assert v.phone("+44 20 7946 0958") is True
    assert v.phone("2026-03-14") is False  # a date is never a phone
    assert v.phone("12") is False


def test_jwt_header() -> None:
    assert v.jwt("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.x.y")
    assert not v.jwt("eyJub3QganNvbg.x.y")


def test_unknown_validator_names_the_known_ones() -> None:
    with pytest.raises(RegistryError, match=r"known validators: .*credit_card"):
        v.get_validator("nope")
