"""Sessions, CSRF, rate limits and response headers.

* A session is a random token kept server-side (in this process) with its principal, whether a TOTP code was
  given, a CSRF token and an expiry; a new session is made at every login (never reused: no fixation).
* API callers send ``Authorization: Bearer veil_...`` (an API key; ``x-veil-totp`` for a privileged call) or a
  session token from ``POST /v1/session``; the dashboard's cookie holds the same kind of token (HttpOnly,
  SameSite=Strict, Secure under TLS) and every form carries the session's CSRF token.
* Each principal (or address, before login) gets ``rate_per_minute`` requests a minute (a token bucket).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from veil.vault.access import Session

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}


@dataclass
class WebSession:
    token: str
    session: Session | None  # an operator; None for a data subject of the privacy center
    csrf: str
    expires: float
    subject: str = ""  # the privacy center's data subject (their id), once their code was accepted
    identifier: str = ""  # their e-mail (kept in memory only for the session's life)
    data: dict[str, str] = field(default_factory=dict)


class Sessions:
    def __init__(self, minutes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = minutes * 60.0
        self.clock = clock
        self._items: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self, session: Session | None = None, *, subject: str = "", identifier: str = "") -> WebSession:
        item = WebSession("vs_" + secrets.token_urlsafe(32), session, secrets.token_urlsafe(24),
                          self.clock() + self.ttl, subject=subject, identifier=identifier)  # fmt: skip
        with self._lock:
            now = self.clock()
            if len(self._items) > 50_000:
                self._items = {k: v for k, v in self._items.items() if v.expires > now}
            self._items[item.token] = item
        return item

    def get(self, token: str | None) -> WebSession | None:
        if not token:
            return None
        item = self._items.get(token)
        if item is None or item.expires <= self.clock():
            return None
        item.expires = self.clock() + self.ttl  # sliding expiry
        return item

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._items.pop(token or "", None)

    def drop_principal(self, principal: str) -> None:
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if not (v.session and v.session.principal == principal)}


def csrf_ok(item: WebSession | None, sent: str | None) -> bool:
    return item is not None and bool(sent) and hmac.compare_digest(item.csrf, sent or "")


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, bursts up to that many."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            self._buckets[key] = (tokens - 1, now)
            return True
