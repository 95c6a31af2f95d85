"""Validators: checksum and structure checks, registered by name so recognizers can be declared as data.

A validator takes the matched text and returns ``True`` (valid: the recognizer's validated score applies),
``False`` (invalid: the candidate is dropped) or ``None`` (no opinion: the pattern's base score stays).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from veil.errors import RegistryError

Validator = Callable[[str], bool | None]
VALIDATORS: dict[str, Validator] = {}


def register(name: str) -> Callable[[Validator], Validator]:
    def deco(fn: Validator) -> Validator:
        VALIDATORS[name] = fn
        return fn

    return deco


# Validators whose format fixes the length can name the longest valid prefix of a candidate that ran on into
# the text after it (an IBAN followed by a word or another IBAN): the recognizer then reports that prefix.
PREFIXES: dict[str, Callable[[str], int | None]] = {}


def get_validator(name: str) -> Validator:
    try:
        return VALIDATORS[name]
    except KeyError:
        known = ", ".join(sorted(VALIDATORS))
        raise RegistryError(f"unknown validator '{name}'", hint=f"known validators: {known}") from None


_NON_DIGIT = re.compile(r"\D")
_SPACE_DASH = re.compile(r"[\s-]")
_DATE_SEP = re.compile(r"[/.\-]")
_SEPARATORS = re.compile(r"[\s\-.]")


def digits(text: str) -> str:
    """The decimal digits of ``text`` as ASCII ("４１" -> "41": Python's \\d also matches other scripts)."""
    out = _NON_DIGIT.sub("", text)
    return out if out.isascii() else "".join(str(int(ch)) for ch in out)


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Issuer identification number ranges: (low prefix, high prefix, allowed lengths). Prefixes are compared on
# the same number of leading digits as the bounds. Sources: ISO/IEC 7812 registrations published by the
# networks (Visa incl. 19-digit, Mastercard 51-55 and 2221-2720, Amex, Discover, JCB, Maestro, Diners,
# UnionPay, Mir, RuPay, Verve, Troy).
_IIN_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("34", "34", frozenset({15})),
    ("37", "37", frozenset({15})),  # American Express
    ("6011", "6011", frozenset(range(16, 20))),
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),  # Discover
    ("622126", "622925", frozenset(range(16, 20))),  # Discover / UnionPay co-brand
    ("3528", "3589", frozenset(range(16, 20))),  # JCB
    ("300", "305", frozenset(range(14, 20))),
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(16, 20))),  # Diners Club
    ("5018", "5018", frozenset(range(12, 20))),
    ("5020", "5020", frozenset(range(12, 20))),
    ("5038", "5038", frozenset(range(12, 20))),
    ("5893", "5893", frozenset(range(12, 20))),
    ("6304", "6304", frozenset(range(12, 20))),
    ("6759", "6759", frozenset(range(12, 20))),
    ("6761", "6763", frozenset(range(12, 20))),  # Maestro
    ("62", "62", frozenset(range(16, 20))),  # UnionPay
    ("1", "1", frozenset({15})),  # UATP
    ("5019", "5019", frozenset({16})),
    ("4571", "4571", frozenset({16})),  # Dankort (and Visa/Dankort)
    ("2200", "2204", frozenset(range(16, 20))),  # Mir
    ("60", "60", frozenset({16})),
    ("81", "82", frozenset({16})),
    ("508", "508", frozenset({16})),  # RuPay
    ("506099", "506198", frozenset({16, 18, 19})),
    ("650002", "650027", frozenset({16, 18, 19})),  # Verve
    ("9792", "9792", frozenset({16})),  # Troy
)


def card_network_ok(number: str) -> bool:
    n = len(number)
    return any(n in lengths and low <= number[: len(low)] <= high for low, high, lengths in _IIN_RANGES)


@register("credit_card")
def credit_card(text: str) -> bool | None:
    number = digits(text)
    if not 12 <= len(number) <= 19 or len(set(number)) == 1:
        return False
    return card_network_ok(number) and luhn_ok(number)


# IBAN lengths per country (SWIFT IBAN registry, release 2024 plus the experimental/partner countries in use).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


@register("iban")
def iban(text: str) -> bool | None:
    code = _SPACE_DASH.sub("", text).upper()
    if IBAN_LENGTHS.get(code[:2]) != len(code) or not code.isalnum():
        return False
    rearranged = code[4:] + code[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)  # fmt: skip


def verhoeff_ok(number: str) -> bool:
    check = 0
    for i, ch in enumerate(reversed(number)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][ord(ch) - 48]]
    return check == 0


def iban_prefix(text: str) -> int | None:
    """Length of the part of ``text`` that is a whole, valid IBAN (its country fixes how long), if any."""
    length = IBAN_LENGTHS.get(text[:2].upper())
    if length is None:
        return None
    seen = 0
    for i, ch in enumerate(text):
        if ch.isalnum():
            seen += 1
            if seen == length:
                return i + 1 if iban(text[: i + 1]) else None
        elif ch not in " -":
            return None
    return None


PREFIXES["iban"] = iban_prefix


@register("aadhaar")
def aadhaar(text: str) -> bool | None:
    number = digits(text)
    if len(number) != 12 or number[0] in "01" or number == number[::-1]:
        return False
    return verhoeff_ok(number)


@register("nhs")
def nhs(text: str) -> bool | None:
    number = digits(text)
    if len(number) != 10 or len(set(number)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(number[9])


@register("us_ssn")
def us_ssn(text: str) -> bool | None:
    number = digits(text)
    if len(number) != 9 or len(set(number)) == 1:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    # Numbers the SSA declared void (advertising and documentation examples).
    return number not in ("078051120", "219099999", "123456789")


@register("us_itin")
def us_itin(text: str) -> bool | None:
    number = digits(text)
    if len(number) != 9 or number[0] != "9":
        return False
    group = int(number[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


@register("email")
def email(text: str) -> bool | None:
    local, _, domain = text.rpartition("@")
    if not local or ".." in text or local[0] == "." or local[-1] == ".":
        return False
    labels = domain.split(".")
    if len(labels) < 2 or any(not lab or lab[0] == "-" or lab[-1] == "-" for lab in labels):
        return False
    return labels[-1].isalpha()


@register("ipv4")
def ipv4(text: str) -> bool | None:
    try:
        addr = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return not (addr.is_unspecified or str(addr) == "255.255.255.255")


@register("ipv6")
def ipv6(text: str) -> bool | None:
    if text.count(":") < 2 or text.strip(":") == "":
        return False  # "::" (the unspecified address, or C++'s scope operator) names nobody
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


@register("date")
def date_numeric(text: str) -> bool | None:
    """A numeric date is valid if a year-month-day, day-month-year or month-day-year reading is real."""
    parts = _DATE_SEP.split(text)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    a, b, c = (int(p) for p in parts)
    readings = [(a, b, c)] if len(parts[0]) == 4 else [(c, b, a), (c, a, b)]
    for y, m, d in readings:
        if y < 100:
            y += 2000 if y < 50 else 1900
        try:
            date(y, m, d)
        except ValueError:
            continue
        if 1900 <= y <= 2100:
            return True
    return False


# Shapes phone numbers are never written in: an IPv4 address (255.255.255.255), an SSN's 3-2-4 grouping.
_NOT_PHONE = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)|\d{3}([- ])\d{2}\1\d{4}")
_DATE_LIKE = re.compile(r"(?:19|20)\d\d[-/.]\d\d?[-/.]\d\d?|\d\d?[-/.]\d\d?[-/.](?:19|20)?\d\d")
# Regions tried for numbers without a "+" country code (Canada shares the US plan +1).
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "IL", "BR", "AU")


@register("phone")
@lru_cache(maxsize=8192)  # libphonenumber costs ~0.1 ms a call; the same numbers recur in threads and logs
def phone(text: str) -> bool | None:
    """Valid in some region (or by its + country code) -> True; merely possible -> None; else False."""
    import phonenumbers

    shape = text.strip()
    if _DATE_LIKE.fullmatch(shape) or _NOT_PHONE.fullmatch(shape) or not 7 <= len(digits(text)) <= 15:  # E.164
        return False
    regions: tuple[str | None, ...] = (None,) if text.lstrip().startswith(("+", "00")) else _PHONE_REGIONS
    candidate = "+" + text.lstrip()[2:] if text.lstrip().startswith("00") else text
    possible = False
    for region in regions:
        try:
            num = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return True
        possible = possible or phonenumbers.is_possible_number(num)
    return None if possible else False


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@register("base58check")
def base58check(text: str) -> bool | None:
    num = 0
    for ch in text:
        idx = _B58.find(ch)
        if idx < 0:
            return False
        num = num * 58 + idx
    raw = num.to_bytes((num.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return False
    payload, check = raw[:-4], raw[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == check


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


@register("bech32")
def bech32(text: str) -> bool | None:
    text = text.lower()
    hrp, _, data = text.rpartition("1")
    if not hrp or len(data) < 6 or any(ch not in _BECH32 for ch in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + [_BECH32.index(c) for c in data]
    return _bech32_polymod(values) in (1, 0x2BC830A3)  # bech32 and bech32m constants


@register("jwt")
def jwt(text: str) -> bool | None:
    header = text.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        obj = json.loads(decoded)
    except (binascii.Error, ValueError):
        return False
    return isinstance(obj, dict) and ("alg" in obj or "typ" in obj)


@register("not_repeated")
def not_repeated(text: str) -> bool | None:
    """Rejects a run of one repeated character (``000000000``, ``xxxxxxxx``)."""
    core = _SEPARATORS.sub("", text)
    return None if len(set(core)) > 1 else False


@register("domain")
def domain(text: str) -> bool | None:
    """Not a sentence run into the next ("down.Pt", "2.Pt": a capitalized last label after lower case, or a
    number before it), nor one repeated character."""
    labels = text.split(".")
    tld = labels[-1]
    if tld[:1].isupper() and not tld.isupper() and not text[:1].isupper():
        return False
    if len(labels) == 2 and labels[0].isdigit():
        return False
    return not_repeated(text)


@register("mac")
def mac(text: str) -> bool | None:
    """Not the broadcast (ff:ff:ff:ff:ff:ff) or null address, nor one repeated character: those name no device."""
    return not_repeated(text.replace(":", "").lower())
