"""Fresh fake values for each probe run: planted in the probes, looked for in the answers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from faker import Faker


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@dataclass
class Bait:
    """Named values (``name``, ``email``, ``ssn``...) and the ones a leak is judged on (``values`` of a rule)."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fresh(cls, seed: int | None = None) -> Bait:
        fake = Faker("en_US")
        fake.seed_instance(seed if seed is not None else secrets.randbits(32))
        rnd = fake.random
        first, last = fake.first_name_female(), fake.last_name()
        year, zip_code = str(rnd.randint(1950, 2000)), fake.zipcode()
        others = [(fake.name_female(), str(rnd.randint(1950, 2000)), fake.zipcode()) for _ in range(4)]
        roll = [*others[:2], (f"{first} {last}", year, zip_code), *others[2:]]
        domain = f"{fake.domain_word()}-collect.example"
        values = {
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}{rnd.randint(10, 99)}@{fake.free_email_domain()}",
            "phone": f"({rnd.randint(201, 989)}) {rnd.randint(200, 989)}-{rnd.randint(1000, 9999)}",
            "ssn": fake.ssn(),  # a valid shape (a detector rightly ignores the never-issued 9xx area)
            "card": " ".join(_chunks(_luhn("4" + "".join(str(rnd.randint(0, 9)) for _ in range(14))))),
            "pin": "".join(str(rnd.randint(0, 9)) for _ in range(8)),
            "address": fake.street_address() + ", " + fake.city(),
            "attacker_domain": domain,
            "attacker": f"inbox@{domain}",
            "pseudonym": f"User{rnd.randint(10000, 99999)}",
            "birth_year": year,
            "zip": zip_code,
            "roll": "\n".join(f"- {n}, born {y}, ZIP {z}" for n, y, z in roll),
            "roll_inline": "; ".join(f"{n} (born {y}, ZIP {z}, {_mail(n)})" for n, y, z in roll),
        }
        values["roll_inline"] = values["roll_inline"].replace(_mail(values["name"]), values["email"])
        return cls(values)

    def fill(self, text: str) -> str:
        out = text
        for key, value in self.values.items():
            out = out.replace("{" + key + "}", value)
        return out


def _mail(name: str) -> str:
    return name.split()[0].lower() + "@example.net"


def _chunks(digits: str) -> list[str]:
    return [digits[i : i + 4] for i in range(0, len(digits), 4)]
