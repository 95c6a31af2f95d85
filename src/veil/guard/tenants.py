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
from collections.abc import Callable
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
    def __init__(
        self, access: AccessControl, *, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.access = access
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[bytes, tuple[float, Session]] = {}
        self._lock = threading.Lock()
        self._flights: dict[bytes, threading.Lock] = {}

    def cached(self, authorization: str | None, purpose: str | None) -> Tenant | None:
        """The tenant when its key is in the cache and fresh (no I/O: fit for the event loop), else None."""
        key = _bearer(authorization)
        if key is None:
            return None
        hit = self._cache.get(_digest(key))
        if hit is None or hit[0] <= self.clock():
            return None
        return self._tenant(hit[1], purpose)

    def authenticate(self, authorization: str | None, purpose: str | None) -> Tenant:
        """The tenant behind an ``Authorization`` header; raises ``Unauthenticated`` (401) or ``AccessDenied``
        (403), both audited."""
        key = _bearer(authorization)
        if key is None:
            raise Unauthenticated("the guard needs 'Authorization: Bearer veil_...' (a Veil API key)")
        try:
            session = self._session(key)
        except AccessDenied as exc:
            raise Unauthenticated(exc.message) from None
        return self._tenant(session, purpose)

    def fresh(self, key: str) -> Session | None:
        """The session of an API key verified within ``ttl`` (no I/O: fit for the event loop), else None."""
        hit = self._cache.get(_digest(key))
        return hit[1] if hit is not None and hit[0] > self.clock() else None

    def verify(self, key: str) -> Session:
        """The session of an API key (argon2 at most once per ``ttl``); ``AccessDenied`` when it is not valid."""
        return self._session(key)

    def _tenant(self, session: Session, purpose: str | None) -> Tenant:
        scope = session.role.scope
        self.access.authorize(session, "guard", purpose=purpose or "", scope=scope or "")
        return Tenant(session.principal, scope, session)

    def _session(self, key: str) -> Session:
        digest = _digest(key)
        with self._lock:
            flight = self._flights.setdefault(digest, threading.Lock())
        with flight:  # concurrent calls with one key share one check (no herd of argon2 hashes)
            now = self.clock()
            hit = self._cache.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
            # A key verified before is re-checked by a database read (enabled, same key): argon2 only once.
            session = self.access.recheck(hit[1], key) if hit is not None else self.access.authenticate(key)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache = {d: v for d, v in self._cache.items() if v[0] > now}
                    self._flights = {d: f for d, f in self._flights.items() if d in self._cache}
                self._cache[digest] = (now + self.ttl, session)
            return session


def _bearer(authorization: str | None) -> str | None:
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key.startswith("veil_") else None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
