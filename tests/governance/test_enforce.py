"""Consent enforced where data is used: tables, DP queries, the guard (proxy and wrapped client)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import polars as pl
import pytest

from tests.governance.conftest import MakeGov
from tests.guard.conftest import Script, Server, chat_answer, scripted_app
from veil.anonymizer import Anonymizer
from veil.errors import AccessDenied, ConfigError, InputError
from veil.governance.enforce import ConsentFilter, consent_check
from veil.guard import Guard, wrap
from veil.guard.proxy import create_app

FRAME = pl.DataFrame(
    {"email": ["a@example.org", "b@example.org", "c@example.org", None, "not an identifier"], "x": [1, 2, 3, 4, 5]}
)


def test_the_filter_keeps_only_subjects_who_may_be_processed(make_gov: MakeGov) -> None:
    gov = make_gov()
    a, b, c = (gov.subjects.register(f"{n}@example.org").id for n in "abc")
    gov.consent.record(a, "marketing", "grant")
    gov.consent.record(b, "marketing", "grant")
    gov.consent.record(b, "marketing", "withdraw")
    gov.consent.record(c, "*", "restrict")
    marketing = ConsentFilter(gov.consent, "marketing", "email")
    assert marketing(FRAME)["x"].to_list() == [1]  # consent-based: a grant is needed, an empty cell shows none
    assert marketing.excluded == 4
    orders = ConsentFilter(gov.consent, "orders", "email")
    assert orders(FRAME)["x"].to_list() == [1, 2, 4, 5]  # contract: all but the restricted subject
    with pytest.raises(InputError, match="no such column"):
        ConsentFilter(gov.consent, "orders", "mail")(FRAME)


@pytest.mark.parametrize("shop_url", ["sqlite"], indirect=True)
def test_anonymize_table_leaves_out_rows_without_consent(make_gov: MakeGov, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from veil.cli.main import app

    gov = make_gov()
    csv = tmp_path / "people.csv"
    FRAME.write_csv(csv)
    gov.consent.record(gov.subjects.register("a@example.org").id, "marketing", "grant")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, [
        "anonymize-table", str(csv), "--policy", str(tmp_path / "policy.yaml"), "--purpose", "marketing",
        "--subject-column", "email", "--out", str(out), "--report", str(tmp_path / "r.json"), "--vault", gov.vault.url,
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out)["x"].to_list() == [1]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows_excluded"] == 4 and report["rows_out"] == 1 and report["rows_in"] == 5
    refused = CliRunner().invoke(app, [
        "anonymize-table", str(csv), "--policy", str(tmp_path / "policy.yaml"), "--subject-column", "email",
        "--out", str(tmp_path / "o2.csv"),
    ])  # fmt: skip
    assert refused.exit_code != 0 and "needs --purpose" in str(refused.exception or refused.output)


@pytest.mark.parametrize("shop_url", ["sqlite"], indirect=True)
def test_the_guard_refuses_calls_about_a_subject_without_consent(make_gov: MakeGov) -> None:
    gov = make_gov()
    script = Script()
    guard = Guard(gov.policy, Anonymizer(gov.policy, vault=gov.vault), consent=consent_check(gov.vault, gov.policy))
    with Server(scripted_app(script)) as up, Server(create_app(guard, up.url + "/", "k")) as proxy:
        script.answer(chat_answer({"content": "ok"}))
        body = {"model": "m", "messages": [{"role": "user", "content": "Write an offer for our customer"}]}

        def post(**headers: str) -> httpx.Response:
            return httpx.post(proxy.url + "/v1/chat/completions", json=body, headers=headers, timeout=20)

        refused = post(**{"x-veil-subject": "a@example.org", "x-veil-purpose": "marketing"})
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "veil_consent_refused"
        assert "a@example.org" not in refused.text and script.received == []  # nothing went upstream
        assert post(**{"x-veil-subject": "a@example.org"}).status_code == 400  # a subject needs a purpose
        gov.consent.record(gov.subjects.register("a@example.org").id, "marketing", "grant")
        assert post(**{"x-veil-subject": "A@example.org", "x-veil-purpose": "marketing"}).status_code == 200
        assert post().status_code == 200  # an untagged call is not about a subject
        guard.audit.flush()
        calls = [r for r in gov.vault.audit.records() if r["action"] == "guard.request"]
        assert calls[0]["subject"] == gov.subjects.subject_id("a@example.org")


@pytest.mark.parametrize("shop_url", ["sqlite"], indirect=True)
def test_wrap_takes_the_subject_and_purpose_and_never_sends_them(make_gov: MakeGov) -> None:
    gov = make_gov()
    script = Script()
    with Server(scripted_app(script)) as up:
        client = wrap(openai.OpenAI(base_url=up.url + "/v1", api_key="k", max_retries=0), gov.policy,
                      consent=consent_check(gov.vault, gov.policy))  # fmt: skip
        script.answer(chat_answer({"content": "ok"}))
        msg = [{"role": "user", "content": "hello"}]
        with pytest.raises(AccessDenied):
            client.chat.completions.create(model="m", messages=msg, veil_subject="b@example.org",
                                           veil_purpose="marketing")  # fmt: skip
        gov.consent.record(gov.subjects.register("b@example.org").id, "marketing", "grant")
        client.chat.completions.create(model="m", messages=msg, veil_subject="b@example.org", veil_purpose="marketing")
        assert "veil_subject" not in json.dumps(script.received) and "b@example.org" not in json.dumps(script.received)
        with pytest.raises(ConfigError, match="no consent ledger"):
            wrap(openai.OpenAI(base_url=up.url + "/v1", api_key="k"), gov.policy).chat.completions.create(
                model="m", messages=msg, veil_subject="b@example.org", veil_purpose="marketing"
            )
