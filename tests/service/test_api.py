"""The /v1 API against a real uvicorn server on loopback."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.governance.conftest import email
from tests.service.conftest import client

TEXT = "Write to Maria Gonzalez at maria.gonzalez@example.org or call +1 415 555 0173."


def test_authentication_is_required_and_errors_are_json(service: dict[str, Any]) -> None:
    with client(service) as c:
        res = c.post("/v1/scan", json={"text": TEXT})
        assert res.status_code == 401 and res.json()["error"]["code"] == "VEIL-411"
        res = c.post("/v1/scan", json={"text": TEXT}, headers={"authorization": "Bearer veil_nope_nope"})
        assert res.status_code == 401
        h = service["admin"].headers()
        res = c.post("/v1/scan", json={"txt": TEXT}, headers=h)
        assert res.status_code == 422 and res.json()["error"]["code"] == "VEIL-200"
        res = c.post("/v1/scan", content=b"{", headers={**h, "content-type": "application/json"})
        assert res.status_code == 422 and "Traceback" not in res.text
        big = c.post("/v1/scan", content=b"x" * 9_000_000, headers={**h, "content-type": "application/json"})
        assert big.status_code == 413 and big.json()["error"]["code"] == "VEIL-413"
        assert c.get("/healthz").headers["content-security-policy"].startswith("default-src 'none'")


def test_scan_anonymize_restore_with_role_visibility(service: dict[str, Any]) -> None:
    with client(service) as c:
        admin, support = service["admin"], service["support"]
        res = c.post("/v1/scan", json={"text": TEXT}, headers=admin.headers())
        found = {f["entity"]: f for f in res.json()["findings"]}
        assert found["EMAIL_ADDRESS"]["value"] == "maria.gonzalez@example.org"
        assert found["EMAIL_ADDRESS"]["explanation"]["recognizer"]
        res = c.post("/v1/anonymize", json={"text": TEXT}, headers=support.headers())
        anonymized = res.json()["text"]
        assert "maria.gonzalez@example.org" not in anonymized and res.json()["items"]
        # full restore needs detokenize with TOTP (a session token carries it); support sees e-mails masked
        full = c.post("/v1/restore", json={"text": anonymized},
                      headers={"authorization": f"Bearer {admin.token(c)}"})  # fmt: skip
        assert full.status_code == 200 and full.json()["text"] == TEXT
        masked = c.post("/v1/restore", json={"text": anonymized}, headers=support.headers())
        assert masked.status_code == 200 and "maria.gonzalez@example.org" not in masked.json()["text"]
        assert "*" in masked.json()["text"]
        no_mfa = c.post("/v1/restore", json={"text": anonymized}, headers=admin.headers())
        assert no_mfa.status_code == 403 and "TOTP" in no_mfa.json()["error"]["message"]


def test_table_jobs_progress_cancel_and_owner_only(service: dict[str, Any]) -> None:
    csv = "name,email,notes\n" + "".join(f"P{i},p{i}@example.org,call me at +1 415 555 {i:04d}\n" for i in range(400))
    with client(service) as c:
        h = service["support"].headers()
        res = c.post("/v1/jobs/anonymize-table", files={"file": ("people.csv", csv, "text/csv")},
                     data={"output": "csv"}, headers=h)  # fmt: skip
        assert res.status_code == 200, res.text
        job = res.json()["id"]
        with c.stream("GET", f"/v1/jobs/{job}/events", headers=h) as events:
            last = [line for line in events.iter_lines() if line.startswith("data:")][-1]
        assert json.loads(last[5:])["status"] == "done"
        out = c.get(f"/v1/jobs/{job}/output", headers=h)
        assert out.status_code == 200 and "p7@example.org" not in out.text and out.text.count("\n") == 401
        # another principal cannot see, cancel or download it: the same answer as for no job at all
        other = service["admin"].headers()
        for method, path in (("GET", ""), ("POST", "/cancel"), ("GET", "/output"), ("GET", "/events")):
            res = c.request(method, f"/v1/jobs/{job}{path}", headers={"authorization": "Bearer " + _third(c, service)})
            assert res.status_code == 400 and res.json()["error"]["message"] == "no such job"
        assert c.get(f"/v1/jobs/{job}", headers=other).status_code == 200  # admins see every job
        res = c.post("/v1/jobs/scan-table", data={"source": "shop", "table": "customers"}, headers=h)
        assert res.status_code == 200
        scan = res.json()["id"]
        for _ in range(100):
            doc = c.get(f"/v1/jobs/{scan}", headers=h).json()
            if doc["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert doc["status"] == "done" and any(col["name"] == "email" for col in doc["result"]["columns"])
        res = c.post("/v1/jobs/scan-table", data={"source": "shop", "table": "customers; DROP TABLE x"}, headers=h)
        assert res.status_code == 400
        res = c.post("/v1/jobs/scan-table", files={"file": ("x.exe", b"MZ", "application/octet-stream")}, headers=h)
        assert res.status_code == 400 and "upload a" in res.json()["error"]["message"]


def _third(c: httpx.Client, service: dict[str, Any]) -> str:
    """A third principal with its own role (no admin), created through the admin API session."""
    if "third" not in service:
        from veil.vault import Vault
        from veil.vault.access import AccessControl

        ac = AccessControl(Vault(service["vault"]))
        ac.create_role("analyst", ["tokenize"])
        service["third"] = ac.create_principal("ivan", "analyst", totp=False)[0]
    return str(service["third"])


def test_governance_over_the_api(service: dict[str, Any]) -> None:
    with client(service) as c:
        admin = {"authorization": f"Bearer {service['admin'].token(c)}"}
        res = c.post("/v1/consent", json={"subject": email(2), "purpose": "marketing", "action": "grant",
                                          "notice_text": "We send offers."}, headers=admin)  # fmt: skip
        assert res.status_code == 200 and len(res.json()["notice_hash"]) == 64
        shown = c.post("/v1/consent/show", json={"subject": email(2)}, headers=admin).json()
        assert shown["purposes"]["marketing"] is True
        req = c.post("/v1/dsar", json={"subject": email(2), "type": "access"}, headers=admin).json()
        assert c.post(f"/v1/dsar/{req['id']}/run", headers=admin).status_code == 403  # not verified yet
        c.post(f"/v1/dsar/{req['id']}/verify", json={"method": "e-mail code"}, headers=admin)
        done = c.post(f"/v1/dsar/{req['id']}/run", headers=admin)
        assert done.status_code == 200 and done.json()["status"] == "done"
        bundle = c.get(f"/v1/dsar/{req['id']}/bundle", headers=admin)
        assert bundle.status_code == 200 and bundle.content[:2] == b"PK"
        ropa = c.get("/v1/ropa?format=html", headers=admin)
        assert ropa.status_code == 200 and "Record of processing activities" in ropa.text
        assert c.get("/v1/dpia/marketing?format=markdown", headers=admin).text.startswith("# Data protection")
        b = c.post("/v1/breaches", json={"title": "Lost laptop", "sources": ["shop.customers"]}, headers=admin)
        assert b.status_code == 200 and b.json()["facts"]["subjects_estimate"] == 30
        assert c.get("/v1/dsar", headers={"authorization": "Bearer " + _third(c, service)}).status_code == 403


def test_audit_needs_its_permission(service: dict[str, Any]) -> None:
    with client(service) as c:
        assert c.get("/v1/audit/verify", headers=service["support"].headers()).status_code == 403
        admin = {"authorization": f"Bearer {service['admin'].token(c)}"}
        res = c.get("/v1/audit/verify", headers=admin)
        assert res.status_code == 200 and res.json()["ok"]
        lines = c.get("/v1/audit/export", headers=admin).text.splitlines()
        assert json.loads(lines[0])["id"] == 1
        denied = [json.loads(x) for x in lines if json.loads(x)["result"] == "denied"]
        assert any(d["action"] == "audit:read" and d["actor"] == "sam" for d in denied)  # the refusal is audited


def test_kanon_job_and_the_guard_in_the_same_process(service: dict[str, Any], tmp_path: Any) -> None:
    import random

    rng = random.Random(3)
    rows = "".join(f"{rng.randint(18, 80)},{rng.choice('FM')},{rng.randint(10000, 10100)}\n" for _ in range(300))
    with client(service) as c:
        h = service["support"].headers()
        res = c.post("/v1/jobs/kanon", files={"file": ("p.csv", "age,sex,zip\n" + rows, "text/csv")},
                     data={"qi": "age,sex,zip", "k": "5"}, headers=h)  # fmt: skip
        assert res.status_code == 200, res.text
        job = res.json()["id"]
        for _ in range(200):
            doc = c.get(f"/v1/jobs/{job}", headers=h).json()
            if doc["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert doc["status"] == "done", doc
        assert doc["result"]["risk_after"]["smallest_class"] >= 5
    from tests.guard.conftest import Script, Server, chat_answer, scripted_app
    from veil.cli.serve import build

    script = Script()
    with Server(scripted_app(script)) as up:
        app = build(service["policy"], service["vault"], upstream=up.url + "/", upstream_key="up-key",
                    work_dir=tmp_path)  # fmt: skip
        with Server(app) as svc:
            script.answer(chat_answer({"content": "ok"}))
            body = {"model": "m", "messages": [{"role": "user", "content": "mail maria@example.org"}]}
            res = httpx.post(svc.url + "/llm/v1/chat/completions", json=body, timeout=20,
                             headers={"authorization": f"Bearer {service['admin'].key}"})  # fmt: skip
            assert res.status_code == 200, res.text
            assert "maria@example.org" not in json.dumps(script.received[-1])
            assert script.headers[-1]["authorization"] == "Bearer up-key"


def test_a_cancelled_job_stops_between_batches_and_leaves_no_output(service: dict[str, Any]) -> None:
    rows = "".join(f"P{i},p{i}@example.org,note {i} call +1 415 555 {i % 10000:04d}\n" for i in range(120_000))
    with client(service) as c:
        h = service["support"].headers()
        res = c.post("/v1/jobs/anonymize-table", files={"file": ("big.csv", "name,email,notes\n" + rows, "text/csv")},
                     headers=h)  # fmt: skip
        assert res.status_code == 200, res.text
        job = res.json()["id"]
        for _ in range(600):
            doc = c.get(f"/v1/jobs/{job}", headers=h).json()
            if doc["rows"] > 0 or doc["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        c.post(f"/v1/jobs/{job}/cancel", headers=h)
        for _ in range(600):
            doc = c.get(f"/v1/jobs/{job}", headers=h).json()
            if doc["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        assert doc["status"] == "cancelled", doc
        assert c.get(f"/v1/jobs/{job}/output", headers=h).status_code == 400
