"""Faults: a source failing halfway, a kill -9 inside an erasure, cycles, impossible plans, bad configuration.
Each leaves nothing half-erased, other subjects untouched and the request resumable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, text
from sqlalchemy.exc import OperationalError

from tests.governance.conftest import MakeGov, checksums, count, email
from veil.errors import ConfigError, InputError
from veil.governance.erase import Eraser
from veil.governance.sample import build_shop


def _crm(path: Path, n: int = 40) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, notes TEXT)"))
        for i in range(1, n + 1):
            conn.execute(text("INSERT INTO contacts VALUES (:i, :e, 'called back')"), {"i": i, "e": email(i)})
    engine.dispose()
    return url


def test_a_source_failing_halfway_leaves_a_resumable_request(
    make_gov: MakeGov, shop_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = _crm(tmp_path / "crm.db")
    gov = make_gov({"shop": {"url": shop_url, "erase": {"orders": "null"}}, "crm": {"url": crm}})
    token = gov.vault.tokenize("default", "EMAIL_ADDRESS", email(9))
    req = gov.open(email(9), "erase")
    gov.verify(req.id, "code")
    real = Eraser.apply
    failures = {"left": 1}

    def flaky(self: Eraser, conn: Any, found: Any, override: Any = None) -> Any:
        if self.schema.name == "crm" and failures["left"]:
            failures["left"] -= 1
            raise OperationalError("DELETE", {}, Exception("server closed the connection unexpectedly"))
        return real(self, conn, found, override)

    monkeypatch.setattr(Eraser, "apply", flaky)
    with pytest.raises(InputError, match=r"source 'crm'.*closed the connection"):
        gov.run(req.id)
    failed = gov.requests.get(req.id)
    assert failed.status == "failed" and failed.progress["sources"]["shop"]["state"] == "done"
    assert "crm" not in failed.progress["sources"]
    assert count(shop_url, "SELECT count(*) FROM customers WHERE email = :e", e=email(9)) == 0
    assert count(crm, "SELECT count(*) FROM contacts WHERE email = :e", e=email(9)) == 1  # not touched yet
    assert gov.subjects.identifier(req.subject) == email(9)  # nothing shredded before every source is done
    assert gov.vault.detokenize_many("default", [token]) == {token: email(9)}
    done = gov.run(req.id)  # resumes: the shop is not erased (nor counted) twice
    assert done.status == "done"
    assert done.result["sources"]["shop"]["customers"] == {"rows": 1, "deleted": 1}
    assert done.result["sources"]["crm"] == {"contacts": {"rows": 1, "deleted": 1}}
    assert count(crm, "SELECT count(*) FROM contacts") == 39
    assert gov.vault.detokenize_many("default", [token]) == {}


def test_kill_9_inside_an_erasure_rolls_the_source_back_and_the_rerun_finishes(
    make_gov: MakeGov, shop_url: str, tmp_path: Path
) -> None:
    gov = make_gov()
    before_all = checksums(shop_url)
    req = gov.open(email(14), "erase")
    gov.verify(req.id, "code")
    script = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from veil.governance.erase import Eraser
        from veil.governance.runner import Governor
        from veil.policy import load_policy
        from veil.vault import MasterKey, Vault
        real = Eraser._delete
        def killed(self, conn, info, keys):
            n = real(self, conn, info, keys)
            os.kill(os.getpid(), signal.SIGKILL)  # after a first DELETE, before the commit
            return n
        Eraser._delete = killed
        vault = Vault({str(gov.vault.url)!r}, master_key=MasterKey(b"v" * 32, "test"))
        gov = Governor(vault, load_policy({str(tmp_path / "policy.yaml")!r}), base=Path({str(tmp_path)!r}))
        gov.run({req.id!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert checksums(shop_url) == before_all  # the killed transaction left nothing behind
    assert gov.requests.get(req.id).status == "running"
    done = gov.run(req.id)
    assert done.status == "done" and done.result["sources"]["shop"]["customers"]["deleted"] == 1
    assert count(shop_url, "SELECT count(*) FROM customers WHERE email = :e", e=email(14)) == 0


def _cyclic(url: str) -> None:
    meta = MetaData()
    Table("people", meta, Column("id", Integer, primary_key=True), Column("email", String(200)),
          Column("buddy_id", Integer, ForeignKey("people.id"), nullable=True))  # fmt: skip
    Table("accounts", meta, Column("id", Integer, primary_key=True),
          Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
          Column("primary_card_id", Integer, ForeignKey("cards.id", use_alter=True), nullable=True))  # fmt: skip
    Table("cards", meta, Column("id", Integer, primary_key=True),
          Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False))  # fmt: skip
    engine = create_engine(url)
    meta.create_all(engine)
    with engine.begin() as conn:
        for i in (1, 2, 3):
            conn.execute(text("INSERT INTO people VALUES (:i, :e, NULL)"), {"i": i, "e": f"p{i}@example.org"})
            conn.execute(text("INSERT INTO accounts VALUES (:i, :i, NULL)"), {"i": i})
            conn.execute(text("INSERT INTO cards VALUES (:i, :i)"), {"i": i})
            conn.execute(text("UPDATE accounts SET primary_card_id = :i WHERE id = :i"), {"i": i})
        conn.execute(text("UPDATE people SET buddy_id = 1 WHERE id = 1"))  # a row pointing at itself
        conn.execute(text("UPDATE people SET buddy_id = 1 WHERE id = 2"))  # another subject points at person 1
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def test_foreign_key_cycles_are_broken_before_rows_go(
    backend: str, make_gov: MakeGov, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cyclic.db'}"
        _cyclic(url)
        _erase_in_cycle(make_gov, url)
        return
    from veil.storage import testing

    with testing.fresh_database(request.getfixturevalue("postgres_server")) as url:
        _cyclic(url)
        _erase_in_cycle(make_gov, url)


def _erase_in_cycle(make_gov: MakeGov, url: str) -> None:
    gov = make_gov({"app": {"url": url, "identity": {"people": ["email"]}, "erase": {"people": "delete"}}})
    req = gov.open("p1@example.org", "erase")
    gov.verify(req.id, "code")
    tables = gov.run(req.id).result["sources"]["app"]
    assert tables["cards"] == {"rows": 1, "deleted": 1} and tables["accounts"] == {"rows": 1, "deleted": 1}
    # person 2 is another subject whose buddy link points at person 1: only that link is cut, the row stays
    assert tables["people"] == {"rows": 1, "deleted": 1, "other_subjects_unlinked": 1}
    assert count(url, "SELECT count(*) FROM people WHERE email = 'p2@example.org' AND buddy_id IS NULL") == 1
    assert count(url, "SELECT count(*) FROM people") == 2
    assert count(url, "SELECT count(*) FROM accounts WHERE person_id IN (2, 3)") == 2


def test_a_plan_that_cannot_hold_stops_before_the_first_change(make_gov: MakeGov, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'strict.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)"))
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, "
                          "customer_id INTEGER NOT NULL REFERENCES customers(id), amount REAL)"))  # fmt: skip
        conn.execute(text("INSERT INTO customers VALUES (1, 'a@example.org'), (2, 'b@example.org')"))
        conn.execute(text("INSERT INTO invoices VALUES (1, 1, 9.5), (2, 2, 3.0)"))
    engine.dispose()
    gov = make_gov({"books": {"url": url, "erase": {"invoices": "null"}}})
    req = gov.open("a@example.org", "erase")
    gov.verify(req.id, "code")
    with pytest.raises(ConfigError, match=r"invoices.customer_id is NOT NULL"):
        gov.run(req.id)
    assert count(url, "SELECT count(*) FROM customers") == 2 and count(url, "SELECT count(*) FROM invoices") == 2
    assert gov.requests.get(req.id).status == "failed"


def test_bad_source_configuration_is_named(make_gov: MakeGov, shop_url: str, tmp_path: Path) -> None:
    gov = make_gov({"shop": {"url": shop_url, "identity": {"customers": ["nope"]}}})
    req = gov.open(email(1), "access")
    gov.verify(req.id, "code")
    with pytest.raises(ConfigError, match=r"customers\.nope, which does not exist"):
        gov.run(req.id)
    gov = make_gov({"gone": {"url": f"sqlite:///{tmp_path / 'missing.db'}"}})
    req = gov.open(email(1), "access")
    gov.verify(req.id, "code")
    with pytest.raises(InputError, match="no such database file"):
        gov.run(req.id)
    assert not (tmp_path / "missing.db").exists()  # a mistyped source is never created
    gov = make_gov({"shop": {"url": shop_url, "references": ["tickets.owner -> customers.email"]}})
    req = gov.open(email(1), "access")
    gov.verify(req.id, "code")
    with pytest.raises(ConfigError, match=r"tickets\.owner, which does not exist"):
        gov.run(req.id)


def test_a_password_in_a_source_url_never_shows(make_gov: MakeGov, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", "s3cret-pw")
    gov = make_gov({"shop": {"url": "postgresql://veil:${SHOP_PASSWORD}@127.0.0.1:1/shop"}})
    req = gov.open(email(1), "access")
    gov.verify(req.id, "code")
    with pytest.raises(InputError) as exc:
        gov.run(req.id)
    assert "s3cret-pw" not in str(exc.value) and "***" in str(exc.value)
    monkeypatch.delenv("SHOP_PASSWORD")
    with pytest.raises(ConfigError, match="SHOP_PASSWORD is not set"):
        gov.run(req.id)


def test_a_declared_reference_links_a_table_without_a_foreign_key(make_gov: MakeGov, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ref.db'}"
    build_shop(create_engine(url), 10)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE reviews (id INTEGER PRIMARY KEY, author_ref INTEGER, stars INTEGER)"))
        conn.execute(text("INSERT INTO reviews VALUES (1, 3, 5), (2, 4, 1)"))
    engine.dispose()
    gov = make_gov({"shop": {"url": url, "references": ["reviews.author_ref -> customers.id"]}})
    req = gov.open(email(3), "erase")
    gov.verify(req.id, "code")
    assert gov.run(req.id).result["sources"]["shop"]["reviews"] == {"rows": 1, "deleted": 1}
    assert count(url, "SELECT count(*) FROM reviews WHERE author_ref = 4") == 1
