"""Synthetic customer tables with Faker: 12 columns, one of them free text, every row's values its own.

Faker draws pools of names, streets and cities; rows combine them with per-row unique parts (customer id, e-mail,
phone, card), so direct identifiers are unique as in a real table and quasi-identifiers repeat.

    python bench/_tables.py ROWS OUT.csv|OUT.parquet [--seed 7]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import polars as pl
from faker import Faker

COLUMNS = ["customer_id", "name", "email", "phone", "birth_date", "street_address", "city", "zip_code", "gender",
           "annual_income", "credit_card", "notes"]  # fmt: skip
_NOTES = [
    "Customer {name} called from {phone} about a refund for order {order}.",
    "Please send the invoice to {email}; card ending {last4} was declined twice.",
    "Spoke with {first} today, she moved to {street}, {city}. Follow up next week.",
    "No issues reported. Satisfied with the service.",
    "Delivery to {city} was late; {first} asked for a call back on {phone}.",
    "Account reviewed, nothing to report.",
]


def _luhn_complete(digits: list[int]) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def generate(rows: int, seed: int = 7) -> pl.DataFrame:
    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    pool = max(50, min(rows, 20_000))
    firsts = [fake.first_name() for _ in range(pool)]
    lasts = [fake.last_name() for _ in range(pool)]
    streets = [fake.street_address() for _ in range(pool)]
    places = [(fake.city(), fake.state_abbr(), fake.zipcode()) for _ in range(max(50, pool // 10))]
    domains = ["example.com", "example.org", "mail.example.net", "corp.example.co.uk"]
    data: dict[str, list[object]] = {c: [] for c in COLUMNS}
    for i in range(rows):
        first, last = rnd.choice(firsts), rnd.choice(lasts)
        city, state, zipcode = rnd.choice(places)
        phone = f"({rnd.randint(201, 989)}) {rnd.randint(200, 999)}-{rnd.randint(0, 9999):04d}"
        card = _luhn_complete([4] + [rnd.randint(0, 9) for _ in range(14)])
        email = f"{first.lower()}.{last.lower()}{i}@{rnd.choice(domains)}"
        street = rnd.choice(streets)
        note = rnd.choice(_NOTES).format(name=f"{first} {last}", first=first, phone=phone, email=email,
                                         last4=card[-4:], street=street, city=city, order=100000 + i)  # fmt: skip
        values = [f"C{i:08d}", f"{first} {last}", email, phone,
                  f"{rnd.randint(1940, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                  f"{street}, {city}, {state} {zipcode}", city, zipcode, rnd.choice(["F", "M", "X"]),
                  rnd.randrange(18_000, 250_000, 500), card, note]  # fmt: skip
        for c, v in zip(COLUMNS, values, strict=True):
            data[c].append(v)
    return pl.DataFrame(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    frame = generate(args.rows, args.seed)
    if args.out.suffix == ".parquet":
        frame.write_parquet(args.out)
    else:
        frame.write_csv(args.out)
    print(f"{args.out}: {frame.height} rows x {frame.width} columns")


if __name__ == "__main__":
    main()
