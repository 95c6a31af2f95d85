"""Where alerts go: the audit log, a webhook (JSON POST, HMAC-signed when a secret is set), JSON lines."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from typing import Any, Protocol, TextIO

from veil.monitor.events import Alert

log = logging.getLogger(__name__)


class Sink(Protocol):
    def emit(self, alert: Alert, alert_id: int | None) -> None: ...


class JsonLines:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def emit(self, alert: Alert, alert_id: int | None) -> None:
        self.out.write(json.dumps({"id": alert_id, **alert.to_dict()}) + "\n")
        self.out.flush()


class AuditSink:
    """Each alert is itself an audit record (``monitor.alert``): what was flagged, never values."""

    def __init__(self, audit: Any) -> None:
        self.audit = audit

    def emit(self, alert: Alert, alert_id: int | None) -> None:
        self.audit.append("monitor", "monitor.alert", result=alert.severity, alert=alert_id, kind=alert.kind,
                          key=alert.key, window=alert.window, record=alert.record)  # fmt: skip


class Webhook:
    """POSTs ``{"alert": ...}``; with a secret, ``x-veil-signature: sha256=<HMAC of the body>``. A webhook that
    fails is logged and retried once; the monitor keeps going (the alert is in the database either way)."""

    def __init__(self, url: str, secret: bytes | None = None, timeout: float = 5.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.failures = 0

    def emit(self, alert: Alert, alert_id: int | None) -> None:
        body = json.dumps({"alert": {"id": alert_id, **alert.to_dict()}}).encode()
        headers = {"content-type": "application/json", "user-agent": "veil-monitor"}
        if self.secret:
            headers["x-veil-signature"] = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        for _ in range(2):
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    if 200 <= resp.status < 300:
                        return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = type(exc).__name__
            else:
                reason = f"HTTP {resp.status}"
        self.failures += 1
        log.warning("the alert webhook failed (%s); the alert is stored", reason)
