"""The monitor's alerts through the service: listed and acknowledged by audit:read only, never by the principal an
alert is about, each acknowledgement on the record; on the dashboard's audit page with CSRF and escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.service.conftest import client
from tests.service.test_web import _csrf, login
from veil.monitor.events import Alert
from veil.monitor.store import AlertStore
from veil.vault import Vault


def _raise(service: dict[str, Any], key: str, why: str) -> int:
    now = datetime.now(UTC)
    alert = Alert("new-use", key, f"purpose:marketing-{key}", now, 1, "purpose", "2 purpose(s) used before",
                  "marketing", why)  # fmt: skip
    found = AlertStore(Vault(service["vault"]).engine).add(alert)
    assert found is not None
    return found


def test_alerts_are_listed_and_acknowledged_by_auditors_only(service: dict[str, Any]) -> None:
    about_alice = _raise(service, "alice", "alice used purpose 'marketing' for the first time")
    about_ana = _raise(service, "ana", "ana used purpose 'marketing' for the first time")
    with client(service) as c:
        sam = {"authorization": f"Bearer {service['support'].token(c)}"}
        assert c.get("/v1/alerts", headers=sam).status_code == 403
        assert c.post(f"/v1/alerts/{about_ana}/ack", headers=sam).status_code == 403
        alice = {"authorization": f"Bearer {service['admin'].token(c)}"}
        listed = c.get("/v1/alerts", headers=alice).json()["alerts"]
        assert {about_alice, about_ana} <= {a["id"] for a in listed}
        mine = c.post(f"/v1/alerts/{about_alice}/ack", headers=alice, json={"note": "it was me"})
        assert mine.status_code == 403 and "another principal" in mine.json()["error"]["message"]
        ok = c.post(f"/v1/alerts/{about_ana}/ack", headers=alice, json={"note": "new campaign, approved"})
        assert ok.status_code == 200 and ok.json()["acked_by"] == "alice"
        again = c.post(f"/v1/alerts/{about_ana}/ack", headers=alice)
        assert again.status_code == 400 and "already acknowledged" in again.json()["error"]["message"]
        assert c.post("/v1/alerts/999999/ack", headers=alice).status_code == 400
        assert c.post(f"/v1/alerts/{about_ana}/ack", headers=alice, json={"note": "x" * 1001}).status_code == 422
        assert c.get("/v1/alerts?status=maybe", headers=alice).status_code == 422
        acked = c.get("/v1/alerts?status=acked", headers=alice).json()["alerts"]
        assert [a["note"] for a in acked if a["id"] == about_ana] == ["new campaign, approved"]
    records = [r for r in Vault(service["vault"]).audit.records() if r["action"] == "monitor.ack"]
    details = json.loads(records[-1]["details"])
    assert records[-1]["actor"] == "alice" and details == {"alert": about_ana, "kind": "new-use", "key": "ana",
                                                           "window": "purpose:marketing-ana"}  # fmt: skip


def test_the_audit_page_shows_open_alerts_escaped_and_acknowledges_with_csrf(service: dict[str, Any]) -> None:
    hostile = _raise(service, "<img src=x onerror=alert(1)>", "a name <script>alert(2)</script> used a purpose")
    with client(service) as c:
        login(c, service["admin"])
        page = c.get("/ui/audit")
        assert page.status_code == 200 and 'id="alerts"' in page.text
        assert "<script>alert(2)" not in page.text and "&lt;script&gt;" in page.text and "<img src=x" not in page.text
        assert c.post("/ui/audit/ack", data={"alert": str(hostile)}).status_code == 403  # no CSRF token
        res = c.post("/ui/audit/ack", data={"alert": "nope", "csrf": _csrf(page.text)})
        assert res.status_code == 400
        res = c.post("/ui/audit/ack", data={"alert": str(hostile), "note": "test", "csrf": _csrf(page.text)})
        assert res.status_code == 303
        after = c.get(res.headers["location"])
        assert f"alert {hostile} acknowledged" in after.text
        assert f'name="alert" value="{hostile}"' not in after.text
