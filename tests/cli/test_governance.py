"""veil consent / dsar / ropa / dpia / breach / retention from the command line (a real subprocess each)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.cli.test_anonymize import env, veil  # noqa: F401 - fixtures
from tests.governance.conftest import email, write_policy
from veil.governance.sample import build_shop
from veil.vault import MasterKey


@pytest.fixture
def genv(env: dict[str, str], tmp_path: Path) -> dict[str, str]:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    build_shop(create_engine(url), 30)
    rules = [{"source": "shop", "table": "orders", "column": "created_at", "purpose": "orders"}]
    policy = write_policy(tmp_path, {"shop": {"url": url, "erase": {"orders": "null"}}}, retention=rules)
    key = MasterKey.encode(b"c" * 32)
    return {**env, "VEIL_POLICY": str(policy), "VEIL_DB": str(tmp_path / "vault.db"), "VEIL_MASTER_KEY": key}


def test_consent_and_a_full_erasure_request(genv: dict[str, str], tmp_path: Path) -> None:
    assert veil(genv, "consent", "grant", email(3), "--purpose", "marketing", "--source", "web",
                "--notice-version", "v1").returncode == 0  # fmt: skip
    shown = json.loads(veil(genv, "consent", "show", email(3), "--json").stdout)
    assert shown["purposes"] == {"marketing": "allowed", "orders": "allowed"}
    rid = veil(genv, "dsar", "open", email(3), "--type", "access", "--channel", "e-mail").stdout.strip()
    res = veil(genv, "dsar", "run", rid)
    assert res.returncode == 2 and "not verified" in res.stderr and "Traceback" not in res.stderr
    assert veil(genv, "dsar", "verify", rid, "--method", "e-mail code").returncode == 0
    res = veil(genv, "dsar", "run", rid, "--out", str(tmp_path / "bundle.zip"))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["tables"]["shop"]["customers"] == 1
    assert "data/shop/orders.csv" in zipfile.ZipFile(tmp_path / "bundle.zip").namelist()
    rid = veil(genv, "dsar", "open", email(3), "--type", "erase").stdout.strip()
    veil(genv, "dsar", "verify", rid, "--method", "e-mail code")
    res = veil(genv, "dsar", "run", rid, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["status"] == "done" and doc["result"]["sources"]["shop"]["customers"]["deleted"] == 1
    listed = json.loads(veil(genv, "dsar", "list", "--json").stdout)
    assert [r["status"] for r in listed] == ["done", "done"]
    shown = json.loads(veil(genv, "dsar", "show", rid).stdout)
    assert [e["event"] for e in shown["timeline"]] == ["received", "verified", "running", "done"]


def test_deadlines_and_overdue(genv: dict[str, str]) -> None:
    rid = veil(genv, "dsar", "open", email(4), "--type", "access", "--received", "2026-01-02T10:00+00:00").stdout
    overdue = json.loads(veil(genv, "dsar", "list", "--overdue", "--json").stdout)
    assert [r["id"] for r in overdue] == [rid.strip()] and overdue[0]["due"].startswith("2026-02-02")
    res = veil(genv, "dsar", "open", email(4), "--type", "access", "--received", "2026-01-02")
    assert res.returncode == 2 and "time zone" in res.stderr


def test_errors_are_one_line_and_never_repeat_the_identifier(genv: dict[str, str]) -> None:
    cases = [
        (["consent", "show", "secret.person@example.org"], "unknown data subject"),
        (["consent", "grant", "secret.person@example.org", "--purpose", "nope"], "unknown purpose 'nope'"),
        (["dsar", "open", "secret.person@example.org", "--type", "delete"], "unknown request type"),
        (["dsar", "show", "dsr_0123456789abcdef"], "no data-subject request"),
        (["dsar", "open", "secret.person@example.org", "--type", "rectify"], "--field NAME --value NEW"),
    ]
    for args, message in cases:
        res = veil(genv, *args)
        assert res.returncode == 2 and message in res.stderr, (args, res.stderr)
        assert "secret.person" not in res.stderr and "Traceback" not in res.stderr
    res = veil({**genv, "VEIL_POLICY": ""}, "dsar", "list")
    assert res.returncode == 2 and "needs the policy" in res.stderr


def test_records_breaches_and_retention(genv: dict[str, str], tmp_path: Path) -> None:
    res = veil(genv, "ropa", "--format", "html", "--out", str(tmp_path / "ropa.html"))
    assert res.returncode == 0, res.stderr
    assert "Record of processing activities" in (tmp_path / "ropa.html").read_text()
    ropa = json.loads(veil(genv, "ropa", "--format", "json").stdout)
    assert {a["purpose"] for a in ropa["activities"]} == {"marketing", "orders"}
    dpia = veil(genv, "dpia", "marketing")
    assert dpia.returncode == 0 and "## (c) Risks" in dpia.stdout and "## Sign-off" in dpia.stdout
    bid = veil(genv, "breach", "open", "Laptop stolen", "--source", "shop.customers",
               "--detected", "2026-11-01T08:00+00:00").stdout.strip()  # fmt: skip
    listed = json.loads(veil(genv, "breach", "list", "--overdue", "--json").stdout)
    assert [b["id"] for b in listed] == [bid] and listed[0]["authority_due"] == "2026-11-04T08:00:00+00:00"
    notice = veil(genv, "breach", "notice", bid, "--to", "authority")
    assert "Notification of a personal data breach" in notice.stdout
    assert veil(genv, "breach", "update", bid, "--note", "told", "--authority-notified").returncode == 0
    assert veil(genv, "breach", "close", bid, "--note", "contained").returncode == 0
    res = veil(genv, "breach", "update", bid, "--note", "late")
    assert res.returncode == 2 and "is closed" in res.stderr
    dry = json.loads(veil(genv, "retention", "run", "--dry-run", "--json").stdout)
    assert dry[0]["table"] == "orders" and "tables" not in dry[0]
    assert veil(genv, "retention", "run", "--json").returncode == 0


def test_policy_governance_is_checked_with_the_line(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\npurposes:\n  m:\n    legal_basis: consent\n    data_categories: [user.contact.emial]\n")
    res = veil(env, "policy", "check", str(bad))
    assert res.returncode == 2 and "line 5" in res.stderr and "user.contact.emial" in res.stderr
    assert "user.contact.email" in res.stderr  # the near names are offered
    bad.write_text("version: 1\npurposes:\n  m:\n    legal_basis: because\n")
    res = veil(env, "policy", "check", str(bad))
    assert res.returncode == 2 and "legal_basis" in res.stderr
    bad.write_text("version: 1\npurposes:\n  m: {}\ngovernance:\n  sources: {s: {url: 'sqlite:///x.db'}}\n"
                   "  retention: [{source: s, table: t, column: c, purpose: m}]\n")  # fmt: skip
    res = veil(env, "policy", "check", str(bad))
    assert res.returncode == 2 and "sets no retention period" in res.stderr


def test_dp_query_over_consenting_subjects_only(genv: dict[str, str], tmp_path: Path) -> None:
    import polars as pl

    from veil.governance.consent import Consent
    from veil.governance.subjects import Subjects
    from veil.policy import load_policy
    from veil.vault import Vault

    csv = tmp_path / "people.csv"
    pl.DataFrame({"email": [f"p{i}@example.org" for i in range(300)], "age": [30] * 300}).write_csv(csv)
    vault = Vault(f"sqlite:///{genv['VEIL_DB']}", master_key=MasterKey(b"c" * 32, "test"))
    ledger = Consent(vault, load_policy(genv["VEIL_POLICY"]), Subjects(vault))
    for i in range(100):
        ledger.record(ledger.subjects.register(f"p{i}@example.org").id, "marketing", "grant")
    assert veil(genv, "dp", "budget", "people", "--set", "10").returncode == 0
    res = veil(genv, "dp", "query", str(csv), "count", "-e", "5", "--dataset", "people", "--purpose", "marketing",
               "--subject-column", "email", "--policy", genv["VEIL_POLICY"], "-f", "json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    (count,) = doc["values"][0].values()
    assert abs(count - 100) <= 8 and "excluded" not in res.stdout  # 300 rows, 100 consented
    res = veil(genv, "dp", "query", str(csv), "count", "-e", "1", "--dataset", "people", "--subject-column", "email")
    assert res.returncode == 2 and "needs --purpose and --policy" in res.stderr
