"""Subjects, the consent ledger and request deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.governance.conftest import MakeGov
from veil.errors import AccessDenied, ConfigError, KeyShredded
from veil.governance.consent import notice_hash
from veil.governance.requests import add_month, deadline
from veil.governance.subjects import kind_of, normalize


def test_subject_ids_are_keyed_stable_and_normalized(make_gov: MakeGov) -> None:
    gov = make_gov()
    a = gov.subjects.subject_id(" Ann.Smith@Example.org ")
    assert a == gov.subjects.subject_id("ann.smith@example.org") and a.startswith("sub_")
    assert gov.subjects.subject_id("+1 (212) 555-0101") == gov.subjects.subject_id("212.555.0101")
    assert gov.subjects.subject_id("C-1001") != gov.subjects.subject_id("c-1001")  # ids are exact
    assert "ann" not in a
    s = gov.subjects.register("ann.smith@example.org")
    assert gov.subjects.register("ANN.SMITH@example.org").id == s.id  # registered once
    assert gov.subjects.identifier(s.id) == "ann.smith@example.org"
    with gov.vault.engine.connect() as conn:
        sealed = conn.execute(text("SELECT identifier FROM veil_subjects WHERE id = :i"), {"i": s.id}).scalar_one()
    assert b"ann.smith" not in bytes(sealed)
    gov.subjects.forget(s.id)
    with pytest.raises(KeyShredded):
        gov.subjects.identifier(s.id)


def test_kinds() -> None:
    assert kind_of("a@b.org") == "email" and kind_of("+44 20 7946 0958") == "phone" and kind_of("C-1001") == "id"
    assert normalize("+44 20 7946 0958", "phone") == "+442079460958"


def test_consent_latest_event_wins_and_restriction_overrides(make_gov: MakeGov) -> None:
    gov = make_gov()
    sid = gov.subjects.register("c@example.org").id
    assert not gov.consent.has(sid, "marketing")  # consent-based: nothing without a grant
    assert gov.consent.has(sid, "orders")  # contract: no consent needed
    e = gov.consent.record(sid, "marketing", "grant", source="web form", notice_version="2026-11",
                           notice_text="We e-mail you offers. Withdraw any time.")  # fmt: skip
    assert e.notice_hash == notice_hash("We e-mail you offers. Withdraw any time.")
    assert gov.consent.has(sid, "marketing")
    gov.consent.record(sid, "marketing", "withdraw", source="unsubscribe link")
    assert not gov.consent.has(sid, "marketing")
    gov.consent.record(sid, "marketing", "grant")
    gov.consent.record(sid, "*", "restrict")
    assert not gov.consent.has(sid, "marketing") and not gov.consent.has(sid, "orders")
    assert [h.action for h in gov.consent.history(sid)] == ["grant", "withdraw", "grant", "restrict"]
    actions = [r["action"] for r in gov.vault.audit.records() if r["subject"] == sid]
    assert actions == ["consent.grant", "consent.withdraw", "consent.grant", "consent.restrict"]
    with pytest.raises(ConfigError, match="unknown purpose"):
        gov.consent.record(sid, "profiling", "grant")
    with pytest.raises(ConfigError, match="one purpose"):
        gov.consent.record(sid, "*", "grant")


def test_the_ledger_is_append_only_in_the_database(make_gov: MakeGov) -> None:
    gov = make_gov()
    sid = gov.subjects.register("d@example.org").id
    gov.consent.record(sid, "marketing", "grant")
    for sql in ("UPDATE veil_consent SET action = 'withdraw'", "DELETE FROM veil_consent"):
        with pytest.raises(DatabaseError, match="append-only"), gov.vault.engine.begin() as conn:
            conn.execute(text(sql))
    assert gov.consent.has(sid, "marketing")


def test_the_check_for_single_calls_refuses_and_audits(make_gov: MakeGov) -> None:
    gov = make_gov()
    with pytest.raises(AccessDenied, match="not consented"):
        gov.consent.check_identifier("e@example.org", "marketing", actor="app")
    denied = [r for r in gov.vault.audit.records() if r["action"] == "consent.check"]
    assert denied and denied[-1]["result"] == "denied" and denied[-1]["actor"] == "app"


def test_deadlines() -> None:
    jan31 = datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert add_month(jan31) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert add_month(datetime(2028, 1, 31, tzinfo=UTC)).day == 29  # leap year
    assert add_month(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)
    assert deadline(jan31, "ccpa") == jan31 + timedelta(days=45)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_one_month_is_28_to_31_days_later(day: datetime) -> None:
    later = add_month(day)
    assert 28 <= (later - day).days <= 31
    assert later.month == day.month % 12 + 1 and later.time() == day.time()


def test_overdue_requests_are_listed(make_gov: MakeGov) -> None:
    gov = make_gov()
    sid = gov.subjects.register("f@example.org").id
    old = gov.requests.open(sid, "access", jurisdiction="gdpr", received=datetime.now(UTC) - timedelta(days=40))
    new = gov.requests.open(sid, "access", jurisdiction="gdpr")
    assert [r.id for r in gov.requests.find(overdue=True)] == [old.id]
    assert {r.id for r in gov.requests.find()} == {old.id, new.id}
    assert old.id != new.id and len(old.id) == 20  # random, not a sequence another subject could guess
