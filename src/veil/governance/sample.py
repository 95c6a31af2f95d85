"""A sample shop database for the demo, the tests and the benchmark: six tables, the shapes governance meets.

customers (identity: e-mail, phone) <- orders (foreign key) <- order_items (foreign key) -> products (not the
subject's); tickets (no foreign key: the e-mail is only inside the free text); newsletter (no primary key, no
foreign key: an e-mail column). Rows are generated deterministically from a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import Column, Date, Engine, ForeignKey, Integer, MetaData, Numeric, String, Table, Text

FIRST = [
    "ann",
    "ben",
    "chloe",
    "dmitri",
    "elena",
    "farid",
    "grace",
    "hugo",
    "ines",
    "jamal",
    "kofi",
    "lena",
    "marta",
    "nils",
    "olga",
    "pavel",
    "quinn",
    "rosa",
    "sami",
    "tara",
    "umar",
    "vera",
    "wei",
    "yara",
    "zoe",
]
LAST = [
    "smith",
    "garcia",
    "okafor",
    "novak",
    "tanaka",
    "dubois",
    "rossi",
    "khan",
    "silva",
    "berg",
    "meyer",
    "haddad",
    "kowalski",
    "larsen",
    "moreau",
    "nguyen",
    "petrov",
    "quispe",
    "schulz",
    "walsh",
]


def shop_tables(meta: MetaData) -> dict[str, Table]:
    t = {
        "customers": Table(
            "customers",
            meta,
            Column("id", Integer, primary_key=True),
            Column("email", String(200), nullable=False),
            Column("phone", String(40)),
            Column("full_name", String(200)),
            Column("city", String(100)),
            Column("created_at", Date),
        ),
        "products": Table(
            "products",
            meta,
            Column("id", Integer, primary_key=True),
            Column("name", String(200)),
            Column("price", Numeric(10, 2)),
        ),
        "orders": Table(
            "orders",
            meta,
            Column("id", Integer, primary_key=True),
            Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
            Column("shipping_address", String(300)),
            Column("total", Numeric(10, 2)),
            Column("created_at", Date),
        ),
        "order_items": Table(
            "order_items",
            meta,
            Column("id", Integer, primary_key=True),
            Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
            Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
            Column("qty", Integer),
        ),
        "tickets": Table(
            "tickets",
            meta,
            Column("id", Integer, primary_key=True),
            Column("opened", Date),
            Column("title", String(200)),
            Column("body", Text),
        ),
        "newsletter": Table("newsletter", meta, Column("email", String(200)), Column("signed_up", Date)),
    }
    return t


def person(i: int) -> tuple[str, str, str]:
    """Customer ``i``'s name, e-mail and phone (unique per i)."""
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    phone = f"+1 {201 + i // 8_000_000} {200 + (i // 10_000) % 800:03d}-{i % 10_000:04d}"
    return f"{first.title()} {last.title()}", f"{first}.{last}.{i}@example.org", phone


def _rows(n_customers: int, seed: int) -> Iterator[tuple[str, dict[str, object]]]:
    rng = random.Random(seed)
    start = date(2020, 1, 1)
    for p in range(1, 51):
        yield "products", {"id": p, "name": f"Product {p}", "price": round(5 + p * 1.5, 2)}
    order_id = item_id = ticket_id = 0
    for i in range(1, n_customers + 1):
        name, email, phone = person(i)
        day = start + timedelta(days=rng.randrange(2000))
        yield (
            "customers",
            {
                "id": i,
                "email": email,
                "phone": phone,
                "full_name": name,
                "city": rng.choice(["Lyon", "Austin", "Porto", "Oslo", "Graz"]),
                "created_at": day,
            },
        )
        for _ in range(3):
            order_id += 1
            yield (
                "orders",
                {
                    "id": order_id,
                    "customer_id": i,
                    "shipping_address": f"{10 + i % 90} Main Street",
                    "total": round(rng.uniform(5, 300), 2),
                    "created_at": day + timedelta(days=rng.randrange(400)),
                },
            )
            for _ in range(1 + (order_id % 3 == 0)):
                item_id += 1
                yield (
                    "order_items",
                    {"id": item_id, "order_id": order_id, "product_id": 1 + rng.randrange(50), "qty": 1},
                )
        if i % 2 == 0:
            ticket_id += 1
            yield (
                "tickets",
                {
                    "id": ticket_id,
                    "opened": day,
                    "title": "Delivery",
                    "body": f"Hello, this is {name} ({email}). Order {order_id} arrived damaged.",
                },
            )
        if i % 2 == 1:
            yield "newsletter", {"email": email.upper() if i % 6 == 1 else email, "signed_up": day}


def build_shop(engine: Engine, n_customers: int = 200, *, seed: int = 7, batch: int = 20_000) -> dict[str, int]:
    """Create the sample tables in an empty database and fill them; returns rows per table."""
    meta = MetaData()
    tables = shop_tables(meta)
    meta.create_all(engine)
    counts = dict.fromkeys(tables, 0)
    pending: dict[str, list[dict[str, object]]] = {k: [] for k in tables}
    order = ["products", "customers", "orders", "order_items", "tickets", "newsletter"]
    with engine.begin() as conn:
        for name, row in _rows(n_customers, seed):
            pending[name].append(row)
            counts[name] += 1
            if len(pending[name]) >= batch:
                for parent in order[: order.index(name) + 1]:  # parents first: foreign keys hold at every insert
                    if pending[parent]:
                        conn.execute(tables[parent].insert(), pending[parent])
                        pending[parent] = []
        for name in order:
            if pending[name]:
                conn.execute(tables[name].insert(), pending[name])
    return counts


def main(argv: list[str] | None = None) -> None:
    """``python -m veil.governance.sample URL [CUSTOMERS]``: build the sample shop in an empty database."""
    import sys

    from sqlalchemy import create_engine, inspect

    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        raise SystemExit("usage: python -m veil.governance.sample URL [CUSTOMERS]")
    engine = create_engine(args[0])
    if inspect(engine).get_table_names():
        raise SystemExit(f"{args[0]} already has tables: the sample shop goes into an empty database")
    counts = build_shop(engine, int(args[1]) if len(args) == 2 else 200)
    print(", ".join(f"{t}: {n}" for t, n in counts.items()))


if __name__ == "__main__":
    main()
