"""Who is calling the guard: Veil principals (API keys) as tenants, or one open tenant for a local proxy.

A client sends ``Authorization: Bearer veil_<id>_<secret>``; its role must allow ``guard`` (``admin`` does) and
gives the pseudonym scope (the role's ``scope``, else the policy's) and the purposes it may declare with
``x-veil-purpose``. The upstream's own key stays the guard's: a client's Veil key is never forwarded.

An argon2 check costs tens of milliseconds, so a verified key is remembered for ``ttl`` seconds (a disabled key
stops working within that time); a failed one is never remembered, so guessing stays expensive.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from veil.errors import AccessDenied
from veil.vault.access import AccessControl, Session


class Unauthenticated(AccessDenied):
    """No valid Veil API key (HTTP 401); a valid key whose role may not do this is plain ``AccessDenied`` (403)."""

    code = "VEIL-411"


@dataclass(frozen=True)
class Tenant:
    """A caller of the guard: the principal (``open`` for an unauthenticated local proxy) and its scope."""

    actor: str
    scope: str | None
    session: Session | None = None


OPEN = Tenant("open", None)


class Tenants:
    def __init__(self, access: AccessControl, *, ttl: float = 10.0) -> None:
        self.access = access
        self.ttl = ttl
        self._cache: dict[bytes, tuple[float, Session]] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None, purpose: str | None) -> Tenant:
        """The tenant behind an ``Authorization`` header; raises ``AccessDenied`` (audited) when refused."""
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key.startswith("veil_"):
            raise Unauthenticated("the guard needs 'Authorization: Bearer veil_...' (a Veil API key)")
        try:
            session = self._session(key)
        except AccessDenied as exc:
            raise Unauthenticated(exc.message) from None
        scope = session.role.scope
        self.access.authorize(session, "guard", purpose=purpose or "", scope=scope or "")
        return Tenant(session.principal, scope, session)

    def _session(self, key: str) -> Session:
        digest = hashlib.sha256(key.encode()).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
        session = self.access.authenticate(key)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache = {d: v for d, v in self._cache.items() if v[0] > now}
            self._cache[digest] = (now + self.ttl, session)
        return session
