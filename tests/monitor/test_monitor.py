"""The monitor over a real vault's audit log: alerts stored once, sent to a signed webhook, tampering caught;
the CLI: veil monitor (one shot, --follow with Prometheus gauges), veil alerts list / ack."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import text

from tests.cli.test_anonymize import ROOT, env, veil  # noqa: F401 - fixtures
from tests.monitor.test_detectors import T0, Feed, office_hours
from veil.errors import AccessDenied
from veil.monitor.baseline import Settings
from veil.monitor.engine import Monitor
from veil.monitor.sinks import Webhook
from veil.monitor.store import AlertStore
from veil.storage.testing import free_port
from veil.vault import MasterKey, Vault

S = Settings(warmup=timedelta(days=2))


def _history(vault: Vault, anomaly: bool = True) -> None:
    """A week of one analyst's office hours, then (optionally) a 3 am bulk export of detokenized values."""
    feed = Feed()
    events = office_hours(feed, "ana", 7)
    if anomaly:
        night = T0 + timedelta(days=8, hours=3)
        events += [feed.event(night + timedelta(minutes=i), "ana", "detokenize", scope="default", requested=500)
                   for i in range(3)]  # fmt: skip
    vault.audit.append_many([feed.record(e) for e in events])


@pytest.fixture
def vault(db_url: str) -> Vault:
    """On SQLite and on a real PostgreSQL (the alert store's one-per-window rule, the chain checks)."""
    return Vault(db_url, master_key=MasterKey(b"m" * 32, "test"))


def test_alerts_are_stored_once_and_the_monitors_own_records_are_not_activity(vault: Vault) -> None:
    _history(vault)
    store = AlertStore(vault.engine)
    first = Monitor(vault.audit, S, store=store)
    kinds = sorted(a.kind for a in first.run_once())
    assert kinds == ["bulk-detokenize", "unusual-hour"]
    assert first.run_once() == []  # nothing new
    again = Monitor(vault.audit, S, store=store)  # a restart replays the log: baselines rebuilt, nothing repeated
    assert again.run_once() == [] and len(store.list()) == 2
    blind = Monitor(vault.audit, S, store=AlertStore(vault.engine), name="second")  # its own cursor, same store
    assert blind.run_once() == []  # the store still holds one alert per kind, key and window
    with pytest.raises(AccessDenied, match="another principal"):
        store.ack(store.list()[0]["id"], "ana")  # an alert about ana is not ana's to dismiss
    store.ack(store.list()[0]["id"], "ops", "checked with ana")
    assert len(store.list()) == 1 and store.list("acked")[0]["acked_by"] == "ops"


def test_an_acknowledged_first_is_learned_and_an_unacknowledged_one_alerts_again(vault: Vault, tmp_path: Path) -> None:
    feed = Feed()
    events = office_hours(feed, "ana", 7)
    day8, day9 = T0 + timedelta(days=8, hours=10), T0 + timedelta(days=9, hours=10)
    events += [feed.event(day8, "ana", "detokenize", scope="default", purpose="marketing", requested=10)]
    vault.audit.append_many([feed.record(e) for e in events])
    store = AlertStore(vault.engine)
    mon = Monitor(vault.audit, S, store=store)
    assert [a.window for a in mon.run_once()] == ["purpose:marketing"]
    row = store.ack(store.list()[0]["id"], "ops")
    later = [feed.event(day8 + timedelta(hours=1), "ops", "monitor.ack", alert=row["id"], kind=row["kind"],
                        key=row["key"], window=row["window"]),
             feed.event(day9, "ana", "detokenize", scope="default", purpose="marketing", requested=10)]  # fmt: skip
    vault.audit.append_many([feed.record(e) for e in later])  # records at office hours, not at the test's clock
    assert mon.run_once() == []  # acknowledged: marketing is one of ana's purposes now
    replay = Monitor(vault.audit, S, store=AlertStore(vault.engine), name="fresh")
    assert replay.run_once() == []  # a restart learns the acknowledgement from the log too
    # the same first use, not acknowledged, alerts again on a later day
    other = Vault(f"sqlite:///{tmp_path / 'other.db'}", master_key=MasterKey(b"m" * 32, "test"))
    again = [feed.event(day9, "ana", "detokenize", scope="default", purpose="marketing", requested=10)]
    other.audit.append_many([feed.record(e) for e in [*events, *again]])
    windows = [a.window for a in Monitor(other.audit, S, store=AlertStore(other.engine)).run_once()]
    assert windows == ["purpose:marketing", f"purpose:marketing@{day9:%Y-%m-%d}"]


def test_a_tampered_audit_log_raises_a_critical_alert(vault: Vault) -> None:
    _history(vault, anomaly=False)
    with vault.engine.begin() as conn:
        conn.execute(text("UPDATE veil_audit SET actor = 'mallory' WHERE id = 5"))
    found = Monitor(vault.audit, S, store=AlertStore(vault.engine)).run_once()
    assert [(a.kind, a.severity, a.record) for a in found] == [("audit-chain", "critical", 5)]
    assert "changed" in found[0].why


def test_a_following_monitor_checks_each_new_record_and_the_whole_chain_now_and_then(vault: Vault) -> None:
    _history(vault, anomaly=False)
    mon = Monitor(vault.audit, S, store=AlertStore(vault.engine), verify_every=3600)
    assert mon.run_once() == []
    at = T0 + timedelta(days=8, hours=11)  # in ana's office hours, whatever the test's clock says
    last = vault.audit.append_many([Feed().record(Feed().event(at, "ana", "detokenize", scope="default", requested=1))])
    with vault.engine.begin() as conn:  # a forged record written straight into the table, without the chain key
        conn.execute(text("INSERT INTO veil_audit (id, at, actor, action, result, scope, subject, purpose, details, "
                          "prev, digest) SELECT id + 1, at, 'mallory', action, result, scope, subject, purpose, "
                          f"details, digest, digest FROM veil_audit WHERE id = {last}"))  # fmt: skip
    found = mon.run_once()  # no full verification is due: the new records alone are checked
    assert [(a.kind, a.record) for a in found] == [("audit-chain", last + 1)]
    assert "changed" in found[0].observed



def test_an_old_record_changed_after_it_was_read_is_found_by_the_next_full_check(vault: Vault) -> None:
    _history(vault, anomaly=False)
    watcher = Monitor(vault.audit, S, verify_every=0)
    assert watcher.run_once() == []
    with vault.engine.begin() as conn:
        conn.execute(text("UPDATE veil_audit SET actor = 'mallory' WHERE id = 3"))
    assert [(a.kind, a.record) for a in watcher.run_once()] == [("audit-chain", 3)]


class Hook(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Hook.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_webhook_gets_signed_json_and_a_dead_one_does_not_stop_the_monitor(vault: Vault) -> None:
    Hook.got.clear()
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _history(vault)
        dead = Webhook(f"http://127.0.0.1:{free_port()}/hook", timeout=1)
        live = Webhook(f"http://127.0.0.1:{server.server_port}/hook", b"s3cret")
        Monitor(vault.audit, S, store=AlertStore(vault.engine), sinks=[dead, live]).run_once()
    finally:
        server.shutdown()
    assert dead.failures == 2 and len(Hook.got) == 2
    headers, body = Hook.got[0]
    want = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-veil-signature"] == want
    alert = json.loads(body)["alert"]
    assert {"kind", "feature", "baseline", "observed", "why", "id"} <= set(alert)


def _seed_cli_vault(env: dict[str, str], tmp_path: Path) -> str:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    res = veil(env, "keys", "status", "--vault", url)  # creates the home's master key and the vault
    assert res.returncode == 0, res.stderr
    script = ("import sys; from tests.monitor.test_monitor import _history; from veil.vault import Vault; "
              "_history(Vault(sys.argv[1]))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, url], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return url


def test_the_cli_raises_lists_and_acknowledges(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    url = _seed_cli_vault(env, tmp_path)
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nmonitor:\n  warmup_days: 2\n")
    res = veil(env, "monitor", "--vault", url, "--policy", str(policy))
    assert res.returncode == 1, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert {a["kind"] for a in lines} == {"bulk-detokenize", "unusual-hour"} and all(a["why"] for a in lines)
    assert veil(env, "monitor", "--vault", url, "--policy", str(policy)).returncode == 0  # nothing new
    listed = [json.loads(x) for x in veil(env, "alerts", "list", "--vault", url, "--json").stdout.splitlines()]
    assert len(listed) == 2
    assert veil(env, "alerts", "ack", str(listed[0]["id"]), "--note", "ok", "--vault", url).returncode == 0
    res = veil(env, "alerts", "ack", str(listed[0]["id"]), "--vault", url)
    assert res.returncode == 2 and "already acknowledged" in res.stderr
    res = veil(env, "alerts", "ack", "999", "--vault", url)
    assert res.returncode == 2 and "no alert 999" in res.stderr
    res = veil(env, "alerts", "list", "--status", "maybe", "--vault", url)
    assert res.returncode == 2 and "status must be" in res.stderr
    actions = [json.loads(x)["action"] for x in veil(env, "audit", "export", "--vault", url).stdout.splitlines()]
    assert actions.count("monitor.alert") == 2 and "monitor.ack" in actions and "audit.export" not in actions
    records = [json.loads(x) for x in veil(env, "audit", "export", "--vault", url).stdout.splitlines()]
    assert records[-1]["action"] == "audit.export"  # the first export is on the record (the monitor watches them)
    ack = next(r for r in records if r["action"] == "monitor.ack")
    assert ack["details"]["kind"] in {"bulk-detokenize", "unusual-hour"} and ack["details"]["key"] == "ana"


def test_follow_serves_prometheus_gauges_and_stops_on_sigterm(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    url = _seed_cli_vault(env, tmp_path)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "veil", "monitor", "--vault", url, "--follow", "--interval", "0.5",
                             "--metrics-port", str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        metrics = ""
        for _ in range(100):
            try:
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                if 'veil_monitor_open_alerts{kind="bulk-detokenize"} 1.0' in metrics:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert 'veil_monitor_score{detector="unusual-hour"}' in metrics
        assert 'veil_monitor_open_alerts{kind="bulk-detokenize"} 1.0' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    assert len(out.splitlines()) == 2
    assert os.path.exists(tmp_path / "cli.db")
