from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from veil.errors import ConfigError, IntegrityError
from veil.storage.schema import audit, keys
from veil.vault import MasterKey, Vault


def test_rotation_keeps_every_token_readable(vault: Vault) -> None:
    toks = vault.tokenize_many("crm", [("PERSON", f"p{i}") for i in range(50)])
    enc = vault.scope_keys("crm").encrypt(b"secret", b"aad")
    new = MasterKey(b"n" * 32, "new")
    assert vault.rotate(new) >= 1
    fresh = Vault(vault.url, master_key=new, previous_keys=[])
    assert fresh.detokenize_many("crm", toks) == {t: f"p{i}" for i, t in enumerate(toks)}
    assert fresh.scope_keys("crm").decrypt(enc, b"aad") == b"secret"  # data was not re-encrypted
    with fresh.engine.connect() as conn:
        assert {r.kek_id for r in conn.execute(select(keys.c.kek_id))} == {new.kek_id}
    old = Vault(vault.url, master_key=MasterKey(b"t" * 32, "old"), previous_keys=[])
    with pytest.raises(IntegrityError):
        old.detokenize_many("crm", toks)  # the old key alone no longer opens anything
    both = Vault(vault.url, master_key=MasterKey(b"t" * 32, "old"), previous_keys=[new])
    assert len(both.detokenize_many("crm", toks)) == 50  # a process not yet restarted keeps working
    with pytest.raises(ConfigError, match="current one"):
        fresh.rotate(new)


def test_audit_records_privileged_actions_without_values(vault: Vault) -> None:
    t = vault.tokenize("crm", "EMAIL_ADDRESS", "ann@example.com", subject="u1")
    vault.detokenize_many("crm", [t], actor="alice", purpose="support")
    vault.shred("crm", "u1")
    recs = list(vault.audit.records())
    assert [(r["actor"], r["action"]) for r in recs] == [("alice", "detokenize"), ("local", "shred")]
    assert json.loads(recs[0]["details"]) == {"requested": 1, "restored": 1}
    assert recs[0]["purpose"] == "support"
    assert "ann@example.com" not in "".join(vault.audit.export())
    assert vault.audit.verify().ok


def _chain(vault: Vault, n: int = 5) -> None:
    for i in range(n):
        vault.audit.append("bob", "export", scope="crm", rows=i)


def test_edited_record_is_found(vault: Vault) -> None:
    _chain(vault)
    with vault.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.id == 3).values(actor="mallory"))
    v = vault.audit.verify()
    assert (v.ok, v.first_bad) == (False, 3) and "changed" in v.problem


def test_deleted_record_is_found(vault: Vault) -> None:
    _chain(vault)
    with vault.engine.begin() as conn:
        conn.execute(delete(audit).where(audit.c.id == 2))
    v = vault.audit.verify()
    assert (v.ok, v.first_bad) == (False, 3) and "missing" in v.problem


def test_deleted_tail_and_reordered_records_are_found(vault: Vault) -> None:
    _chain(vault)
    with vault.engine.begin() as conn:
        rows = {r.id: r for r in conn.execute(select(audit))}
        a, b = rows[2], rows[4]
        fields = ("at", "actor", "action", "scope", "subject", "purpose", "result", "details", "prev", "digest")
        conn.execute(update(audit).where(audit.c.id == 2).values(**{f: getattr(b, f) for f in fields}))
        conn.execute(update(audit).where(audit.c.id == 4).values(**{f: getattr(a, f) for f in fields}))
    v = vault.audit.verify()
    assert (v.ok, v.first_bad) == (False, 2)


def test_forged_chain_without_the_key_fails(vault: Vault) -> None:
    _chain(vault, 2)
    other = Vault(vault.url, master_key=MasterKey(b"t" * 32, "test"))
    forger_key = b"f" * 32
    from veil.vault.audit import AuditLog

    AuditLog(other.engine, forger_key).append("mallory", "detokenize", scope="crm")  # chained with the wrong key
    v = other.audit.verify()
    assert (v.ok, v.first_bad) == (False, 3)


def _veil(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veil", *args], capture_output=True, text=True, env=env, timeout=120)


def test_keys_and_audit_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VEIL_MASTER_KEY", raising=False)
    monkeypatch.delenv("VEIL_KEY_FILE", raising=False)
    env = dict(os.environ)
    Vault().tokenize("crm", "PERSON", "Ann")  # creates home/master.key and home/veil.db
    assert _veil(env, "keys", "init", str(tmp_path / "new.key")).returncode == 0
    assert _veil(env, "keys", "init", str(tmp_path / "new.key")).returncode == 2  # never overwritten
    res = _veil(env, "keys", "rotate", "--new-key-file", str(tmp_path / "new.key"))
    assert res.returncode == 0 and "re-wrapped" in res.stderr, res.stderr
    env2 = dict(env, VEIL_KEY_FILE=str(tmp_path / "new.key"))
    status = _veil(env2, "keys", "status")
    assert status.returncode == 0 and "data key" in status.stdout
    ok = _veil(env2, "audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout
    exported = _veil(env2, "audit", "export")
    assert json.loads(exported.stdout.splitlines()[-1])["action"] == "keys.rotate"


def test_callers_with_their_own_record_can_skip_the_detokenize_record(vault: Vault) -> None:
    t = vault.tokenize("crm", "PERSON", "Ann")
    assert vault.detokenize_many("crm", [t], audit=False) == {t: "Ann"}
    assert list(vault.audit.records()) == []
    vault.detokenize_many("crm", [t])
    assert [r["action"] for r in vault.audit.records()] == ["detokenize"]


def test_deleting_the_newest_records_is_caught_by_the_anchored_checkpoint(tmp_path: Path) -> None:
    """The chain alone cannot see its own end cut off (issue 14): the checkpoint outside the database does."""
    import sqlite3

    from veil.errors import IntegrityError
    from veil.vault import MasterKey, Vault

    db = tmp_path / "v.db"
    vault = Vault(f"sqlite:///{db}", master_key=MasterKey(b"a" * 32, "test"))
    for i in range(5):
        vault.audit.append("t", "test", n=i)
    assert vault.audit.verify().ok
    anchor = tmp_path / "v.db-audit-anchor.jsonl"
    assert anchor.exists() and len(anchor.read_text().splitlines()) == 5
    con = sqlite3.connect(db)
    con.execute("DELETE FROM veil_audit WHERE id > 3")
    con.commit()
    result = vault.audit.verify()
    assert not result.ok and "records 4..5 were deleted" in result.problem
    con.execute("DELETE FROM veil_audit")
    con.commit()
    result = vault.audit.verify()
    assert not result.ok and result.records == 0 and "deleted" in result.problem
    con.execute("DROP TABLE veil_audit")
    con.commit()
    assert not vault.audit.verify().ok and "missing" in vault.audit.verify().problem
    forged = anchor.read_text().splitlines()[-1].replace('"id": 5', '"id": 2')
    anchor.write_text(anchor.read_text() + forged + "\n")
    with pytest.raises(IntegrityError, match="signature does not verify"):
        vault.audit.anchor.newest()  # type: ignore[union-attr]
    other_key = Vault(f"sqlite:///{tmp_path / 'w.db'}", master_key=MasterKey(b"b" * 32, "test"))
    other_key.audit.append("t", "test")
    assert other_key.audit.verify().ok  # another vault's anchor file and checkpoints are its own
