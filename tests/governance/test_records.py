"""Records of processing, DPIA drafts, breaches and retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.governance.conftest import MakeGov, count
from veil.errors import ConfigError
from veil.governance.breach import Breaches
from veil.governance.dpia import dpia, dpia_document
from veil.governance.records import ropa, ropa_document
from veil.governance.retention import run_retention


def test_ropa_states_every_article_30_item_and_the_gaps(make_gov: MakeGov) -> None:
    gov = make_gov()
    doc = ropa(gov)
    assert doc["controller"]["name"] == "Example Shop Ltd"
    marketing = next(a for a in doc["activities"] if a["purpose"] == "marketing")
    assert marketing["legal_basis_text"].startswith("Art. 6(1)(a)")
    assert marketing["retention_days"] == 730 and marketing["recipients"] == ["Mail provider (processor)"]
    assert "user.contact.email" in marketing["categories_found"]
    tables = doc["sources"][0]["tables"]
    assert tables["customers"]["rows"] == 40 and tables["customers"]["identities"] == 40
    assert "user.contact.phone_number" in tables["customers"]["columns"]["phone"]
    # user.contact covers e-mail, phone and street; the tickets' text, the city and the customer id: undeclared
    assert doc["undeclared_categories"] == ["user.content.private", "user.location.imprecise", "user.unique_id"]
    assert any("audit log" in m and "verified intact" in m for m in doc["security_measures"])
    md = ropa_document(doc).markdown()
    assert "## Controller (Art. 30(1)(a))" in md and "Time limit for erasure (f)" in md


def test_documents_escape_what_they_show(make_gov: MakeGov) -> None:
    gov = make_gov()
    gov.policy.purposes["marketing"].description = "<script>alert(1)</script> | *bold*"
    document = ropa_document(ropa(gov))
    html = document.html()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\<script\\>" in document.markdown() and "\\*bold\\*" in document.markdown()


def test_an_unreachable_source_is_reported_not_fatal(make_gov: MakeGov, tmp_path: Path) -> None:
    gov = make_gov({"gone": {"url": f"sqlite:///{tmp_path / 'nope.db'}"}})
    doc = ropa(gov)
    assert doc["sources"][0]["problem"].endswith("no such database file")
    assert "unreachable" in ropa_document(doc).markdown()


def test_dpia_scores_risk_from_the_data_and_lowers_it_by_measures(make_gov: MakeGov) -> None:
    gov = make_gov()
    doc = dpia(gov, "orders")
    names = {r["name"] for r in doc["risks"]}
    assert "Personal data hidden in free text" in names  # tickets.body
    assert doc["processing"]["subjects_estimate"] == 40
    assert all(r["residual"] <= r["score"] for r in doc["risks"])
    assert doc["sign_off"] == {"assessor": "", "dpo_advice": "", "decision": "", "date": ""}
    gov.policy.purposes["orders"].data_uses = ["train_ai_system"]
    gov.policy.purposes["orders"].legal_basis = None
    worse = dpia(gov, "orders")
    assert {"Memorization by a trained model", "No legal basis stated"} <= {r["name"] for r in worse["risks"]}
    assert worse["residual_risk"] == "high" and worse["prior_consultation"]
    assert "Art. 36" in dpia_document(worse).markdown()
    with pytest.raises(ConfigError, match="unknown purpose"):
        dpia(gov, "nope")


def test_breach_clock_notices_and_timeline(make_gov: MakeGov) -> None:
    gov = make_gov()
    reg = Breaches(gov)
    detected = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=80)).replace(microsecond=0)
    b = reg.open("Backup bucket public", ["shop.customers", "shop.tickets"], detected=detected,
                 description="A backup of two tables was readable for six hours")  # fmt: skip
    assert b.facts["subjects_estimate"] == 40
    assert dt.datetime.fromisoformat(b.authority_due) - detected == dt.timedelta(hours=72)
    assert b.overdue and [x.id for x in reg.find(overdue=True)] == [b.id]
    assert not b.facts["notify_subjects"]  # contact data only: no high-risk category
    notices = reg.notices(b.id)
    assert set(notices) == {"authority"} and "Approximate number of data subjects" in notices["authority"].markdown()
    reg.update(b.id, "Authority notified via its portal", authority_notified=True)
    assert not reg.get(b.id).overdue
    closed = reg.update(b.id, "Bucket locked; logs show no download", close=True)
    assert closed.status == "closed" and [e["event"] for e in closed.timeline] == ["opened", "authority notified",
                                                                                   "closed"]  # fmt: skip
    with pytest.raises(ConfigError, match="closed"):
        reg.update(b.id, "again")
    with pytest.raises(ConfigError, match="does not define"):
        reg.open("x", ["crm"])
    with pytest.raises(ConfigError, match="does not have"):
        reg.open("x", ["shop.nope"])
    with pytest.raises(ConfigError, match="time zone"):
        reg.open("x", ["shop"], detected=dt.datetime(2026, 1, 1))


def test_a_breach_of_high_risk_data_must_be_told_to_subjects(make_gov: MakeGov, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE patients (id INTEGER PRIMARY KEY, email TEXT, diagnosis TEXT)"))
        for i in range(30):
            conn.execute(text("INSERT INTO patients VALUES (:i, :e, 'asthma')"), {"i": i, "e": f"p{i}@example.org"})
    engine.dispose()
    gov = make_gov({"clinic": {"url": url}})
    b = Breaches(gov).open("Stolen laptop", ["clinic"])
    assert b.facts["notify_subjects"] and "user.health_and_medical" in b.facts["high_risk_categories"]
    assert "subjects" in Breaches(gov).notices(b.id)


def test_retention_deletes_with_children_or_anonymizes_in_place(make_gov: MakeGov, shop_url: str) -> None:
    rules = [{"source": "shop", "table": "orders", "column": "created_at", "purpose": "orders"}]
    gov = make_gov({"shop": {"url": shop_url}}, retention=rules)
    gov.policy.purposes["orders"].retention = "3y"
    today = dt.date(2026, 12, 1)
    cutoff = "2023-12-02"  # 3 x 365 days before
    expired = count(shop_url, "SELECT count(*) FROM orders WHERE created_at < :c", c=cutoff)
    items = count(shop_url, "SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id "
                            "WHERE o.created_at < :c", c=cutoff)  # fmt: skip
    total = count(shop_url, "SELECT count(*) FROM orders")
    assert 0 < expired < total
    dry = run_retention(gov, dry_run=True, today=today)
    assert dry[0]["expired"] == expired and count(shop_url, "SELECT count(*) FROM orders") == total
    done = run_retention(gov, today=today)
    assert done[0]["tables"]["orders"]["deleted"] == expired and done[0]["tables"]["order_items"]["deleted"] == items
    assert count(shop_url, "SELECT count(*) FROM orders") == total - expired
    assert run_retention(gov, today=today)[0]["expired"] == 0  # nothing left to do
    assert any(r["action"] == "retention.run" for r in gov.vault.audit.records())


def test_retention_anonymize_masks_personal_columns_once(make_gov: MakeGov, shop_url: str) -> None:
    rules = [{"source": "shop", "table": "tickets", "column": "opened", "purpose": "orders", "action": "anonymize"}]
    gov = make_gov({"shop": {"url": shop_url}}, retention=rules)
    gov.policy.purposes["orders"].retention = "1y"
    before = count(shop_url, "SELECT count(*) FROM tickets")
    result = run_retention(gov, today=dt.date(2030, 1, 1))[0]
    assert result["tables"]["tickets"]["masked"] == before == count(shop_url, "SELECT count(*) FROM tickets")
    assert count(shop_url, "SELECT count(*) FROM tickets WHERE body LIKE '%@example.org%'") == 0
    assert count(shop_url, "SELECT count(*) FROM tickets WHERE body LIKE '%<EMAIL_ADDRESS>%'") == before
    assert count(shop_url, "SELECT count(*) FROM tickets WHERE body LIKE '%arrived damaged%'") == before
