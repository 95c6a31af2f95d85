"""Dashboard and privacy center over HTTP: login, CSRF, session fixation, XSS, IDOR, role pages."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.governance.conftest import email
from tests.service.conftest import client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(c: httpx.Client, who: Any, *, totp: bool = True) -> str:
    res = c.post("/ui/login", data={"api_key": who.key, "totp": who.code() if totp else ""})
    assert res.status_code == 303, res.text
    cookie = res.cookies["veil_session"]
    c.cookies.set("veil_session", cookie)
    return cookie


def test_login_sets_a_strict_cookie_and_a_new_session_each_time(service: dict[str, Any]) -> None:
    with client(service) as c:
        assert c.get("/ui").status_code == 303  # to the login page
        planted = "vs_attacker_chosen_value"
        c.cookies.set("veil_session", planted)
        res = c.post("/ui/login", data={"api_key": service["admin"].key, "totp": service["admin"].code()})
        header = res.headers["set-cookie"]
        assert "HttpOnly" in header and "SameSite=strict" in header.replace("Strict", "strict")
        token = res.cookies["veil_session"]
        assert token != planted and token.startswith("vs_")  # no fixation: the server makes the token
        c.cookies.clear()
        c.cookies.set("veil_session", token)
        page = c.get("/ui")
        assert page.status_code == 200 and "Overview" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        bad = c.post("/ui/login", data={"api_key": "veil_x_y", "totp": ""})
        assert bad.status_code == 401 and "invalid API key" in bad.text


def test_forms_need_the_csrf_token(service: dict[str, Any]) -> None:
    with client(service) as c:
        login(c, service["admin"])
        res = c.post("/ui/inspect", data={"text": "mail a@example.org"})
        assert res.status_code == 403 and res.json()["error"]["code"] == "VEIL-412"
        res = c.post("/ui/access", data={"action": "role", "name": "evil", "permissions": "admin", "csrf": "wrong"})
        assert res.status_code == 403
        page = c.get("/ui/inspect")
        ok = c.post("/ui/inspect", data={"text": "mail a@example.org", "csrf": _csrf(page.text)})
        assert ok.status_code == 200 and 'data-entity="EMAIL_ADDRESS"' in ok.text


def test_scanned_values_and_names_are_escaped(service: dict[str, Any]) -> None:
    with client(service) as c:
        login(c, service["admin"])
        csrf = _csrf(c.get("/ui/inspect").text)
        evil = 'Mail "><script>alert(1)</script>@example.org and <img src=x onerror=alert(2)> x@evil.org'
        res = c.post("/ui/inspect", data={"text": evil, "csrf": csrf})
        assert "<script>alert(1)" not in res.text and "<img src=x" not in res.text
        assert "&lt;script&gt;" in res.text
        csrf = _csrf(c.get("/ui/access").text)
        res = c.post("/ui/access", data={"action": "role", "name": "<b>x</b>", "permissions": "tokenize",
                                         "csrf": csrf})  # fmt: skip
        assert "<b>x</b>" not in res.text and "&lt;b&gt;x&lt;/b&gt;" in res.text


def test_a_support_role_cannot_open_audit_or_access(service: dict[str, Any]) -> None:
    with client(service) as c:
        login(c, service["support"])
        page = c.get("/ui")
        assert 'href="/ui/audit"' not in page.text and 'href="/ui/access"' not in page.text
        assert c.get("/ui/audit").status_code == 403 and c.get("/ui/access").status_code == 403
        csrf = _csrf(page.text)
        res = c.post("/ui/access", data={"action": "role", "name": "evil", "permissions": "admin", "csrf": csrf})
        assert res.status_code == 403


def test_privacy_center_flow_and_idor(service: dict[str, Any]) -> None:
    mailbox = service["mailbox"]
    with client(service) as c:
        start = c.get("/center")
        res = c.post("/center/code", data={"email": email(5), "csrf": _csrf(start.text)})
        assert res.status_code == 200 and "Enter your code" in res.text
        wrong = c.post("/center/verify", data={"code": "000000", "csrf": _csrf(res.text)})
        assert wrong.status_code == 403 and "tries left" in wrong.text
        me = c.post("/center/verify", data={"code": mailbox.code(), "csrf": _csrf(wrong.text)})
        assert me.status_code == 200 and "What you agreed to" in me.text
        granted = c.post("/center/consent", data={"purpose": "marketing", "action": "grant", "csrf": _csrf(me.text)})
        assert "you agreed" in granted.text
        asked = c.post("/center/request", data={"type": "access", "csrf": _csrf(granted.text)})
        rid = re.search(r"request (dsr_[0-9a-f]{16}) received", asked.text).group(1)  # type: ignore[union-attr]
    with client(service) as op:  # the request is in the operator's queue, identity already verified
        login(op, service["admin"])
        assert rid in op.get("/ui/governance").text
        admin = {"authorization": f"Bearer {service['admin'].token(op)}"}
        assert op.post(f"/v1/dsar/{rid}/run", headers=admin).json()["status"] == "done"
    with client(service) as other:  # another person signs in: they cannot fetch the first one's bundle
        start = other.get("/center")
        res = other.post("/center/code", data={"email": email(6), "csrf": _csrf(start.text)})
        other.post("/center/verify", data={"code": mailbox.code(), "csrf": _csrf(res.text)})
        assert other.get(f"/center/bundle/{rid}").status_code == 404
    with client(service) as anon:
        assert anon.get(f"/center/bundle/{rid}").status_code == 404


def test_center_does_not_tell_which_addresses_are_known(service: dict[str, Any]) -> None:
    with client(service) as c:
        known = c.post("/center/code", data={"email": email(7), "csrf": _csrf(c.get("/center").text)})
    with client(service) as c:
        unknown = c.post("/center/code", data={"email": "nobody@nowhere.example", "csrf": _csrf(c.get("/center").text)})
    strip = lambda t: re.sub(r'value="[^"]+"', "", t)  # noqa: E731
    assert known.status_code == unknown.status_code == 200 and strip(known.text) == strip(unknown.text)
