"""The audit chain's head, anchored outside the database (CloudTrail's signed digest files are the model).

The hash chain proves that no record was changed, inserted or reordered, but deleting the newest records (or all
of them) leaves a shorter chain that is still whole. So every write to the audit log also appends a checkpoint of
the chain's head (last id, its digest, when) to a file outside the database, signed with HMAC-SHA256 under a key
derived from the master key: whoever can rewrite the database can neither forge a checkpoint nor make the chain
match one it has cut short. ``verify`` compares the database with the newest valid checkpoint.

The file is named by :func:`anchor_path`; one line per checkpoint, one write each
(appends of a few hundred bytes do not interleave), keyed by the vault so that several vaults can share a home.
Deleting the file is noticed as a missing anchor, not as proof.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from veil.errors import IntegrityError
from veil.storage.engine import veil_home

_LABEL = b"veil-audit-anchor"


def anchor_path(url: str) -> Path:
    """``VEIL_AUDIT_ANCHOR``, else beside an SQLite vault file, else ``<VEIL_HOME>/audit-anchor.jsonl``. Point it
    at storage the database's writers cannot change (another host's mount, write-once storage) for the full
    guarantee: beside the database it still catches deletions by anyone who has the database but not the key."""
    if named := os.environ.get("VEIL_AUDIT_ANCHOR"):
        return Path(named)
    if url.startswith("sqlite:///") and url.removeprefix("sqlite:///") not in ("", ":memory:"):
        return Path(url.removeprefix("sqlite:///") + "-audit-anchor.jsonl")
    return veil_home() / "audit-anchor.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    vault: str
    last_id: int
    digest: str
    at: str


class Anchor:
    def __init__(self, path: Path, vault_id: str, master_keys: Sequence[bytes]) -> None:
        self.path = path
        self.vault_id = vault_id
        self._keys = [hmac.new(k, _LABEL, hashlib.sha256).digest() for k in master_keys]

    def _sign(self, key: bytes, body: dict[str, object]) -> str:
        return hmac.new(key, json.dumps(body, sort_keys=True).encode(), hashlib.sha256).hexdigest()

    def write(self, last_id: int, digest: bytes) -> None:
        """Append a signed checkpoint (best effort: a write that fails never fails the audited action)."""
        body = {"vault": self.vault_id, "id": last_id, "digest": digest.hex(), "at": datetime.now(UTC).isoformat()}
        line = json.dumps({**body, "sig": self._sign(self._keys[0], body)}, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except OSError:
            pass

    def newest(self) -> Checkpoint | None:
        """The newest checkpoint of this vault; a line with a bad signature is an integrity error."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IntegrityError(f"{self.path}: the audit anchor cannot be read ({type(exc).__name__})") from None
        best: Checkpoint | None = None
        for number, raw in enumerate(lines, 1):
            try:
                doc = json.loads(raw)
                body = {k: doc[k] for k in ("vault", "id", "digest", "at")}
                sig = str(doc["sig"])
            except (json.JSONDecodeError, KeyError, TypeError):
                if number == len(lines):
                    continue  # a last line cut short by a crash
                raise IntegrityError(f"{self.path}: line {number} is not a checkpoint") from None
            if body["vault"] != self.vault_id:
                continue
            if not any(hmac.compare_digest(sig, self._sign(k, body)) for k in self._keys):
                raise IntegrityError(f"{self.path}: line {number}: the checkpoint's signature does not verify")
            if best is None or int(body["id"]) > best.last_id:
                best = Checkpoint(str(body["vault"]), int(body["id"]), str(body["digest"]), str(body["at"]))
        return best
