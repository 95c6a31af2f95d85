from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from veil.errors import AccessDenied, ConfigError
from veil.vault import Vault
from veil.vault.access import AccessControl

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def _secret(uri: str | None) -> pyotp.TOTP:
    assert uri is not None
    return pyotp.parse_uri(uri)  # type: ignore[no-any-return]


@pytest.fixture
def ac(vault: Vault) -> AccessControl:
    ac = AccessControl(vault)
    ac.create_role("analyst", ["tokenize"])
    ac.create_role("support", ["detokenize:masked"], purposes=["support"], entities={"US_SSN": "none"})
    ac.create_role("dpo", ["detokenize", "audit:read"], entities={"PHONE_NUMBER": "masked"})
    return ac


def test_role_without_permission_is_refused_and_audited(ac: AccessControl, vault: Vault) -> None:
    key, _ = ac.create_principal("ann", "analyst", totp=False)
    session = ac.authenticate(key)
    token = vault.tokenize("crm", "EMAIL_ADDRESS", "x@y.io")
    with pytest.raises(AccessDenied, match="lacks 'detokenize:masked'"):
        ac.detokenize(session, "crm", [token], purpose="support")
    last = list(vault.audit.records())[-1]
    assert (last["actor"], last["action"], last["result"]) == ("ann", "detokenize:masked", "denied")
    assert vault.audit.verify().ok


def test_support_sees_masked_values_only_for_its_purpose(ac: AccessControl, vault: Vault) -> None:
    key, uri = ac.create_principal("sam", "support")
    phone = vault.tokenize("crm", "PHONE_NUMBER", "+1 415 555 0173")
    ssn = vault.tokenize("crm", "US_SSN", "536-22-1234")
    session = ac.authenticate(key)
    assert ac.detokenize(session, "crm", [phone, ssn], purpose="support") == {phone: "+* *** *** 0173"}
    with pytest.raises(AccessDenied, match="purpose 'marketing'"):
        ac.detokenize(session, "crm", [phone], purpose="marketing")
    assert uri is not None and uri.startswith("otpauth://totp/")


def test_privileged_access_needs_totp_once(ac: AccessControl, vault: Vault) -> None:
    key, uri = ac.create_principal("dora", "dpo")
    totp = _secret(uri)
    email = vault.tokenize("crm", "EMAIL_ADDRESS", "x@y.io")
    phone = vault.tokenize("crm", "PHONE_NUMBER", "+1 415 555 0173")
    with pytest.raises(AccessDenied, match="needs a TOTP code"):
        ac.detokenize(ac.authenticate(key), "crm", [email])
    with pytest.raises(AccessDenied, match="wrong TOTP code"):
        ac.authenticate(key, "000000" if totp.at(NOW) != "000000" else "111111", at=NOW)
    session = ac.authenticate(key, totp.at(NOW), at=NOW)
    assert ac.detokenize(session, "crm", [email, phone]) == {email: "x@y.io", phone: "+* *** *** 0173"}
    with pytest.raises(AccessDenied, match="already used"):
        ac.authenticate(key, totp.at(NOW), at=NOW)  # replay of the same code
    with pytest.raises(AccessDenied, match="already used"):
        ac.authenticate(key, totp.at(NOW - timedelta(seconds=30)), at=NOW)  # an older code after a newer one
    assert ac.authenticate(key, totp.at(NOW + timedelta(seconds=30)), at=NOW + timedelta(seconds=30)).mfa
    reasons = [r["details"] for r in vault.audit.records() if r["result"] == "denied"]
    assert any("replayed" in d for d in reasons) and any("wrong TOTP" in d for d in reasons)


def test_bad_keys_and_disabled_principals(ac: AccessControl) -> None:
    key, _ = ac.create_principal("eve", "analyst", totp=False)
    with pytest.raises(AccessDenied, match="invalid API key"):
        ac.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B"))
    with pytest.raises(AccessDenied, match="malformed"):
        ac.authenticate("not-a-key")
    ac.disable("eve")
    with pytest.raises(AccessDenied, match="disabled"):
        ac.authenticate(key)


def test_bad_role_definitions(ac: AccessControl) -> None:
    with pytest.raises(ConfigError, match="unknown permission"):
        ac.create_role("x", ["detokenise"])
    with pytest.raises(ConfigError, match="visibility"):
        ac.create_role("y", ["tokenize"], entities={"PHONE_NUMBER": "partial"})
    with pytest.raises(ConfigError, match="exists"):
        ac.create_role("support", ["tokenize"])
    with pytest.raises(ConfigError, match="unknown role"):
        ac.create_principal("z", "nope")


def test_visibility_holds_whatever_type_the_detector_chose(ac: AccessControl, vault: Vault) -> None:
    """An SSN tokenized as PHONE_NUMBER stays hidden from a role whose US_SSN visibility is none (issue 14)."""
    from veil.detect.plausible import plausible_entities

    key, _ = ac.create_principal("sue", "support", totp=False)
    token = vault.tokenize("crm", "PHONE_NUMBER", "536-22-1234")
    phone = vault.tokenize("crm", "PHONE_NUMBER", "+1 415 555 0173")
    strict = AccessControl(vault, classify=plausible_entities)
    shown = strict.detokenize(strict.authenticate(key), "crm", [token, phone], purpose="support")
    assert token not in shown and shown[phone].endswith("0173") and "415" not in shown[phone]
    plain = ac.detokenize(ac.authenticate(key), "crm", [token], purpose="support")
    assert token in plain  # without a classifier only the stored type counts: what the CLI no longer does


def test_administration_records_name_who_acted(ac: AccessControl, vault: Vault) -> None:
    ac.create_role("ops", ["admin"], actor="root")
    ac.create_principal("olga", "ops", totp=False, actor="root")
    ac.disable("olga", actor="root")
    vault.shred("crm", "subject-1", actor="dpo")
    mine = [(r["actor"], r["action"]) for r in vault.audit.records()][-4:]
    assert mine == [("root", "role.create"), ("root", "principal.create"), ("root", "principal.disable"),
                    ("dpo", "shred")]  # fmt: skip
