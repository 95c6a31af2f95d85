"""fake: realistic surrogates from Faker, consistent per value and scope, locale aware, keeping the format.

The Faker seed is a keyed hash of (entity, value) under the scope's vault key: the same value always gets the
same fake in a scope, and fakes cannot be linked back without the key. A fake card passes Luhn, a fake IBAN its
mod-97 check, and digit groupings (card, phone separators) follow the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from faker import Faker
from pydantic import Field

from veil.transform.base import Operator, OperatorParams, TransformContext, register

_PROVIDERS: dict[str, Callable[[Any], str]] = {
    "PERSON": lambda f: f.name(),
    "EMAIL_ADDRESS": lambda f: f.email(),
    "PHONE_NUMBER": lambda f: f.phone_number(),
    "CREDIT_CARD": lambda f: f.credit_card_number(),
    "IBAN_CODE": lambda f: f.iban(),
    "US_SSN": lambda f: f.ssn(),
    "LOCATION": lambda f: f.city(),
    "STREET_ADDRESS": lambda f: f.street_address(),
    "ZIP_CODE": lambda f: f.postcode(),
    "ORGANIZATION": lambda f: f.company(),
    "DATE_TIME": lambda f: f.date(),
    "IP_ADDRESS": lambda f: f.ipv4_public(),
    "URL": lambda f: f.url(),
    "DOMAIN_NAME": lambda f: f.domain_name(),
    "MAC_ADDRESS": lambda f: f.mac_address(),
    "NRP": lambda f: f.country(),
}


_CARD_BY_LENGTH = {13: "visa13", 14: "diners", 15: "amex", 16: "visa16", 19: "visa19"}


class FakeParams(OperatorParams):
    locale: str | None = Field(default=None, description="Faker locale; default: the policy's locale")
    keep_format: bool = True


@lru_cache(maxsize=32)
def _faker(locale: str) -> Faker:
    try:
        return Faker(locale)
    except AttributeError:
        from veil.errors import ConfigError

        raise ConfigError(f"unknown Faker locale '{locale}'") from None


def _regroup(original: str, fake: str) -> str:
    """Lay the fake's digits out like the original's (``4111 1111 ...``, ``(415) 555-...``) when counts match."""
    digits = [c for c in fake if c.isdigit()]
    if sum(c.isdigit() for c in original) != len(digits):
        return fake
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in original)


_COUNTRY_CODE = re.compile(r"^\s*(?:\+|00)\d{1,3}")


def _fake_phone(original: str, faker: Any) -> str:
    """Same layout and country code as the original, other digits random (first local digit non-zero)."""
    m = _COUNTRY_CODE.match(original)
    head, rest = (original[: m.end()], original[m.end() :]) if m else ("", original)
    first = True
    out = []
    for ch in rest:
        if ch.isdigit():
            out.append(str(faker.random_int(1 if first else 0, 9)))
            first = False
        else:
            out.append(ch)
    return head + "".join(out)


@register
class Fake(Operator):
    name = "fake"
    Params = FakeParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        assert isinstance(self.params, FakeParams)
        vault = ctx.require_vault(self.name)
        faker = _faker(self.params.locale or ctx.locale)
        provider = _PROVIDERS.get(entity)
        out = []
        for v in values:
            if provider is None:
                out.append(f"<{entity}>")
                continue
            seed = int.from_bytes(
                vault.keyed_hash(ctx.scope, b"fake\x1f" + entity.encode() + b"\x1f" + v.encode()), "big"
            )
            faker.seed_instance(seed)
            if entity == "PHONE_NUMBER" and self.params.keep_format:
                out.append(_fake_phone(v, faker))
                continue
            if entity == "CREDIT_CARD":
                card_type = _CARD_BY_LENGTH.get(sum(c.isdigit() for c in v))
                fake = faker.credit_card_number(card_type=card_type) if card_type else provider(faker)
            else:
                fake = provider(faker)
            if self.params.keep_format and entity in ("CREDIT_CARD", "US_SSN"):
                fake = _regroup(v, fake) if entity != "CREDIT_CARD" else _regroup(v, re.sub(r"\D", "", fake))
            out.append(fake)
        return out
