"""Data-subject requests across a real schema: access, erase, rectify, restrict; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.governance.conftest import MakeGov, checksums, count, email, phone
from veil.errors import AccessDenied, ConfigError, InputError, KeyShredded


def _open(gov, identifier: str, kind: str, **params):  # type: ignore[no-untyped-def]
    req = gov.open(identifier, kind, params=params or None)
    gov.verify(req.id, "e-mail code")
    return req


def test_access_bundle_holds_every_table_tokens_consent_and_audit(make_gov: MakeGov, tmp_path: Path) -> None:
    gov = make_gov()
    token = gov.vault.tokenize("default", "EMAIL_ADDRESS", email(4))
    sid = gov.subjects.register(email(4)).id
    gov.consent.record(sid, "marketing", "grant", source="web", notice_version="v2", notice_text="We send offers.")
    req = _open(gov, email(4).upper(), "access")  # the identifier is matched case-insensitively
    done = gov.run(req.id, out=tmp_path / "b.zip")
    assert done.status == "done"
    assert done.result["tables"]["shop"] == {"customers": 1, "order_items": 4, "orders": 3, "tickets": 1}
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        names = set(zf.namelist())
        assert {"README.txt", "request.json", "tokens.json", "consent.json", "audit.json"} <= names
        assert {"data/shop/customers.json", "data/shop/customers.csv", "data/shop/tickets.json"} <= names
        customers = json.loads(zf.read("data/shop/customers.json"))
        assert [c["email"] for c in customers] == [email(4)]
        assert json.loads(zf.read("tokens.json")) == [
            {"scope": "default", "entity": "EMAIL_ADDRESS", "token": token, "value": email(4)}
        ]
        consent = json.loads(zf.read("consent.json"))
        assert consent[0]["notice_version"] == "v2" and len(consent[0]["notice_hash"]) == 64
        assert any(r["action"] == "consent.grant" for r in json.loads(zf.read("audit.json")))
        # nobody else's rows: the other customers' e-mails appear nowhere in the bundle
        blob = b"".join(zf.read(n) for n in names)
        assert email(5).encode() not in blob and email(3).encode() not in blob
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # written atomically


def test_erase_removes_the_subject_everywhere_and_nothing_else(make_gov: MakeGov, shop_url: str) -> None:
    gov = make_gov()
    before = checksums(shop_url, exclude_customer=6)
    token = gov.vault.tokenize("default", "EMAIL_ADDRESS", email(6))
    other = gov.vault.tokenize("default", "EMAIL_ADDRESS", email(7))
    gov.consent.record(gov.subjects.register(email(6)).id, "marketing", "grant")
    req = _open(gov, email(6), "erase")
    done = gov.run(req.id)
    tables = done.result["sources"]["shop"]
    assert tables["customers"] == {"rows": 1, "deleted": 1}
    assert tables["orders"] == {"rows": 3, "nulled": 3}  # kept for the books, unlinked from the person
    assert tables["order_items"]["deleted"] == 4 and tables["tickets"]["deleted"] == 1
    assert done.result["rescan"]["rows_holding_identifier"] == {"shop": {}}
    assert count(shop_url, "SELECT count(*) FROM customers WHERE email = :e", e=email(6)) == 0
    assert count(shop_url, "SELECT count(*) FROM tickets WHERE body LIKE :e", e=f"%{email(6)}%") == 0
    assert checksums(shop_url, exclude_customer=6) == before  # every other subject's rows are untouched
    # the vault: the subject's tokens are gone (irreversible), other subjects' tokens still restore
    assert gov.vault.detokenize_many("default", [token, other]) == {other: email(7)}
    with pytest.raises(KeyShredded):
        gov.subjects.identifier(req.subject)
    assert gov.consent.state(req.subject)["marketing"] == "withdraw"
    audit = [r for r in gov.vault.audit.records() if r["subject"] == req.subject]
    assert {"dsar.open", "dsar.verified", "dsar.erase.source", "vault.erase_subject", "dsar.done"} <= {
        r["action"] for r in audit
    }
    assert gov.vault.audit.verify().ok
    assert email(6) not in json.dumps([r["details"] for r in gov.vault.audit.records()])


def test_a_phone_number_finds_the_email_beside_it_and_the_ticket_holding_that(make_gov: MakeGov) -> None:
    gov = make_gov()
    req = _open(gov, phone(8), "erase")
    tables = gov.run(req.id).result["sources"]["shop"]
    assert tables["customers"]["deleted"] == 1
    assert tables["tickets"]["deleted"] == 1  # the ticket names the e-mail only: found through the customer row
    assert "newsletter" not in tables  # customer 8 never signed up


def test_the_newsletter_table_without_key_or_foreign_key(make_gov: MakeGov, shop_url: str) -> None:
    gov = make_gov()
    # customer 7 signed up with an upper-case address: still the same subject
    assert count(shop_url, "SELECT count(*) FROM newsletter WHERE email = :e", e=email(7).upper()) == 1
    tables = gov.run(_open(gov, email(7), "erase").id).result["sources"]["shop"]
    assert tables["newsletter"] == {"rows": 1, "deleted": 1}
    assert count(shop_url, "SELECT count(*) FROM newsletter WHERE lower(email) = :e", e=email(7)) == 0


def test_rectify_sets_the_value_everywhere(make_gov: MakeGov, shop_url: str) -> None:
    gov = make_gov()
    old_sid = gov.subjects.register(email(10)).id
    gov.consent.record(old_sid, "marketing", "grant")
    new = "new.address.10@example.net"
    req = _open(gov, email(10), "rectify", target="EMAIL_ADDRESS", value=new)
    done = gov.run(req.id)
    assert done.result["sources"]["shop"] == {"customers": 1, "tickets": 1}
    assert count(shop_url, "SELECT count(*) FROM customers WHERE email = :e", e=new) == 1
    assert count(shop_url, "SELECT count(*) FROM tickets WHERE body LIKE :e", e=f"%{new}%") == 1
    assert count(shop_url, "SELECT count(*) FROM tickets WHERE body LIKE :e", e=f"%{email(10)}%") == 0
    assert not gov.consent.has(done.result["subject_now"], "marketing")  # the new address was never verified
    assert gov.requests.params(req.id)["value"] == new  # sealed in the vault, readable by Veil only
    with gov.vault.engine.connect() as conn:
        from sqlalchemy import text

        raw = conn.execute(text("SELECT params FROM veil_requests WHERE id = :i"), {"i": req.id}).scalar_one()
    assert new.encode() not in bytes(raw)


def test_restrict_stops_every_purpose_until_lifted(make_gov: MakeGov) -> None:
    gov = make_gov()
    sid = gov.subjects.register(email(11)).id
    gov.consent.record(sid, "marketing", "grant")
    gov.run(_open(gov, email(11), "restrict").id)
    assert not gov.consent.has(sid, "marketing") and not gov.consent.has(sid, "orders")
    gov.consent.record(sid, "*", "lift")
    assert gov.consent.has(sid, "marketing") and gov.consent.has(sid, "orders")


def test_the_request_lifecycle_is_enforced(make_gov: MakeGov) -> None:
    gov = make_gov()
    req = gov.open(email(12), "access")
    with pytest.raises(AccessDenied, match="not verified"):
        gov.run(req.id)
    with pytest.raises(ConfigError, match="how the identity"):
        gov.verify(req.id, " ")
    gov.verify(req.id, "e-mail code")
    with pytest.raises(ConfigError, match="cannot become verified"):
        gov.verify(req.id, "again")
    gov.run(req.id)
    with pytest.raises(ConfigError, match="is done"):
        gov.run(req.id)
    refused = gov.open(email(12), "erase")
    gov.refuse(refused.id, "manifestly unfounded: the fifth identical request this month")
    with pytest.raises(ConfigError, match="refused"):
        gov.run(refused.id)
    events = [e["event"] for e in gov.requests.get(req.id).timeline]
    assert events == ["received", "verified", "running", "done"]
    with pytest.raises(InputError, match="no data-subject request"):
        gov.requests.get("dsr_0000000000000000")


def test_a_subject_in_no_source_completes_with_nothing_found(make_gov: MakeGov) -> None:
    gov = make_gov()
    done = gov.run(_open(gov, "nobody@nowhere.example", "erase").id)
    assert done.status == "done"
    assert done.result["sources"]["shop"] == {}


def test_unknown_subjects_and_bad_identifiers_get_clear_errors(make_gov: MakeGov) -> None:
    gov = make_gov()
    with pytest.raises(InputError, match="unknown data subject") as exc:
        gov.subjects.find("never.seen@example.org")
    assert "never.seen" not in str(exc.value)  # an error never repeats the identifier
    with pytest.raises(InputError, match=r"1\.\.320"):
        gov.subjects.register("   ")
    with pytest.raises(ConfigError, match="request type"):
        gov.open(email(1), "delete")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="field and its new value"):
        gov.open(email(1), "rectify")


def test_rectify_of_a_column_no_source_has_is_refused(make_gov: MakeGov) -> None:
    gov = make_gov()
    req = _open(gov, email(2), "rectify", target="shoe_size", value="44")
    with pytest.raises(ConfigError, match="shoe_size"):
        gov.run(req.id)
    assert gov.requests.get(req.id).status == "failed"


def test_rectifying_to_someone_elses_address_is_refused(make_gov: MakeGov, shop_url: str) -> None:
    gov = make_gov()
    victim = gov.subjects.register(email(16)).id
    req = _open(gov, email(15), "rectify", target="EMAIL_ADDRESS", value=email(16).upper())
    with pytest.raises(ConfigError, match="already identifies other rows"):
        gov.run(req.id)
    assert count(shop_url, "SELECT count(*) FROM customers WHERE email = :e", e=email(15)) == 1
    assert count(shop_url, "SELECT count(*) FROM customers WHERE lower(email) = :e", e=email(16)) == 1
    assert gov.consent.state(victim) == {}


def test_wildcards_in_an_identifier_match_nothing(make_gov: MakeGov, shop_url: str) -> None:
    gov = make_gov()
    before = checksums(shop_url)
    for hostile in ("%@example.org", "_nn.smith.0@example.org", "' OR 1=1 --@x.org"):
        done = gov.run(_open(gov, hostile, "erase").id)
        assert done.result["sources"]["shop"] == {}
    assert checksums(shop_url) == before


def test_an_erased_subject_who_comes_back_is_a_new_start(make_gov: MakeGov) -> None:
    gov = make_gov()
    gov.run(_open(gov, email(17), "erase").id)
    back = gov.subjects.register(email(17))
    assert back.generation == 1 and gov.subjects.identifier(back.id) == email(17)
    assert not gov.consent.has(back.id, "marketing")
    gov.consent.record(back.id, "marketing", "grant", source="signed up again")
    assert gov.consent.has(back.id, "marketing")
    assert gov.run(_open(gov, email(17), "access").id).result["tables"]["shop"] == {}


def test_bundle_member_names_cannot_escape(tmp_path: Path) -> None:
    from veil.governance.bundle import write_bundle

    contents = {"readme": {"controller": "c", "generated": "now"}, "request": {}, "tokens": [], "consent": [],
                "audit": []}  # fmt: skip
    write_bundle(tmp_path / "b.zip", contents, {"../src": {"../../etc/passwd": [{"a": 1}]}})
    names = zipfile.ZipFile(tmp_path / "b.zip").namelist()
    assert all(".." not in n and not n.startswith("/") for n in names)
