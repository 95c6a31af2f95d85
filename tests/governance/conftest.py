"""A sample shop database (SQLite file, or a fresh database on a real PostgreSQL on loopback) and a governor."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from veil.governance.runner import Governor
from veil.governance.sample import build_shop, person
from veil.policy import load_policy
from veil.storage import testing
from veil.vault import MasterKey, Vault

POLICY: dict[str, Any] = {
    "version": 1,
    "detection": {"ner": False},
    "default": {"operator": "pseudonymize"},
    "purposes": {
        "marketing": {
            "description": "Offers by e-mail.", "legal_basis": "consent", "retention": "2y",
            "data_categories": ["user.contact.email", "user.name"], "data_uses": ["marketing.communications.email"],
            "data_subjects": ["customer"], "recipients": ["Mail provider (processor)"],
        },
        "orders": {
            "description": "Deliver and bill orders.", "legal_basis": "contract", "retention": "7y",
            "data_categories": ["user.contact", "user.financial"], "data_uses": ["essential.service"],
        },
    },
    "governance": {"controller": {"name": "Example Shop Ltd", "contact": "privacy@example.com"}, "sources": {}},
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def shop_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The sample shop (40 customers) on SQLite, and on PostgreSQL (service)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
        build_shop(create_engine(url), 40)
        yield url
        return
    server = request.getfixturevalue("postgres_server")
    with testing.fresh_database(server) as url:
        engine = create_engine(url)
        build_shop(engine, 40)
        engine.dispose()
        yield url


def write_policy(tmp_path: Path, sources: dict[str, Any], **extra: Any) -> Path:
    doc = json.loads(json.dumps(POLICY))
    doc["governance"]["sources"] = sources
    for key, value in extra.items():
        doc["governance"][key] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


MakeGov = Callable[..., Governor]


@pytest.fixture
def make_gov(tmp_path: Path, shop_url: str, monkeypatch: pytest.MonkeyPatch) -> MakeGov:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VEIL_MASTER_KEY", MasterKey.encode(b"v" * 32))  # the CLI in-process opens the same vault
    vault = Vault(f"sqlite:///{tmp_path / 'vault.db'}", master_key=MasterKey(b"v" * 32, "test"))

    def make(sources: dict[str, Any] | None = None, **extra: Any) -> Governor:
        src = sources if sources is not None else {"shop": {"url": shop_url, "erase": {"orders": "null"}}}
        path = write_policy(tmp_path, src, **extra)
        return Governor(vault, load_policy(path), base=tmp_path)

    return make


def email(i: int) -> str:
    return person(i)[1]


def phone(i: int) -> str:
    return person(i)[2]


def checksums(url: str, exclude_customer: int | None = None) -> dict[str, str]:
    """A digest of every table's rows, leaving out the rows of one customer (and what hangs off it)."""
    engine = create_engine(url)
    queries = {
        "customers": "SELECT * FROM customers WHERE id <> :c ORDER BY id",
        "orders": "SELECT * FROM orders WHERE customer_id <> :c ORDER BY id",
        "order_items": "SELECT i.* FROM order_items i JOIN orders o ON o.id = i.order_id "
        "WHERE o.customer_id <> :c ORDER BY i.id",
        "products": "SELECT * FROM products ORDER BY id",
        "tickets": "SELECT * FROM tickets WHERE body NOT LIKE :e ORDER BY id",
        "newsletter": "SELECT * FROM newsletter WHERE lower(email) <> :e2 ORDER BY email",
    }
    c = exclude_customer or -1
    e = f"%{email(c)}%" if exclude_customer else "%<none>%"
    out = {}
    with engine.connect() as conn:
        for name, sql in queries.items():
            rows = conn.execute(text(sql), {"c": c, "e": e, "e2": email(c) if exclude_customer else ""}).all()
            out[name] = hashlib.sha256(repr([tuple(map(str, r)) for r in rows]).encode()).hexdigest()
    engine.dispose()
    return out


def count(url: str, sql: str, **params: Any) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(text(sql), params).scalar_one())
    engine.dispose()
    return n
