"""The service on a real uvicorn server on loopback, with an operator (admin + TOTP), a support role, the
sample shop as a governance source, and a local SMTP server (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest
import yaml
from sqlalchemy import create_engine

from tests.governance.conftest import POLICY
from tests.guard.conftest import Server
from veil.governance.sample import build_shop
from veil.storage.testing import free_port
from veil.vault import MasterKey


class Mailbox:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[str] = []
        box = self

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                box.messages.append(envelope.content.decode("utf-8", "replace"))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def code(self) -> str:
        found = re.findall(r"code is (\d{6})", self.messages[-1])
        assert found, self.messages[-1]
        return found[-1]


class Operator:
    """A principal's credentials and a way to get a fresh TOTP code (each code is accepted once)."""

    def __init__(self, key: str, uri: str | None) -> None:
        self.key = key
        self.totp = pyotp.parse_uri(uri) if uri else None
        self._last = -1

    def code(self) -> str:
        """A code Veil has not seen yet: the server takes the steps before, at and after now, each once and in
        order, so up to three logins fit in one 30 s step; a fourth waits for the next one. Near the end of a step the
        step before is skipped (the server's window may move on before the request arrives)."""
        import time

        assert self.totp is not None
        while True:
            t = time.time()
            now = int(t // 30)
            # The step before now is taken only while the server cannot move past it before the code arrives.
            earliest = now - 1 if t - now * 30 < 25 else now
            step = max(earliest, self._last + 1)
            if step <= now + 1:
                self._last = step
                return str(self.totp.at(step * 30))
            time.sleep(1)

    def token(self, http: httpx.Client) -> str:
        """A session token with MFA (one TOTP code for many privileged calls)."""
        if not hasattr(self, "_token"):
            res = http.post("/v1/session", json={"api_key": self.key, "totp": self.code()})
            assert res.status_code == 200, res.text
            self._token: str = res.json()["token"]
        return self._token

    def headers(self, *, totp: bool = False) -> dict[str, str]:
        h = {"authorization": f"Bearer {self.key}"}
        if totp:
            h["x-veil-totp"] = self.code()
        return h


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import os

    tmp = tmp_path_factory.mktemp("service")
    old = {k: os.environ.get(k) for k in ("VEIL_HOME", "VEIL_MASTER_KEY")}
    os.environ["VEIL_HOME"] = str(tmp / "home")
    os.environ["VEIL_MASTER_KEY"] = MasterKey.encode(b"s" * 32)
    shop = f"sqlite:///{tmp / 'shop.db'}"
    build_shop(create_engine(shop), 30)
    mailbox = Mailbox()
    mailbox.controller.start()
    doc = json.loads(json.dumps(POLICY))
    doc["governance"]["sources"] = {"shop": {"url": shop, "erase": {"orders": "null"}}}
    doc["service"] = {"smtp": {"host": "127.0.0.1", "port": mailbox.port, "sender": "privacy@example.com",
                               "starttls": False}, "rate_per_minute": 100000}  # fmt: skip
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    from veil.cli.serve import build
    from veil.vault import Vault
    from veil.vault.access import AccessControl

    vault_url = f"sqlite:///{tmp / 'vault.db'}"
    ac = AccessControl(Vault(vault_url))
    ac.create_role("operator", ["admin"])
    ac.create_role("support", ["tokenize", "detokenize:masked", "governance"], entities={"EMAIL_ADDRESS": "masked"})
    admin = Operator(*ac.create_principal("alice", "operator", totp=True))
    support = Operator(*ac.create_principal("sam", "support", totp=True))
    app = build(policy, vault_url, work_dir=tmp / "work")
    with Server(app) as server:
        yield {"url": server.url, "admin": admin, "support": support, "mailbox": mailbox, "tmp": tmp,
               "policy": policy, "vault": vault_url, "app": app}  # fmt: skip
    mailbox.controller.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def client(service: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=service["url"], timeout=30, follow_redirects=False)
