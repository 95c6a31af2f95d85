from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from sqlalchemy import select, update

from veil.errors import ConfigError, IntegrityError
from veil.storage.schema import tokens
from veil.vault import MasterKey, TokenFormat, Vault


def test_tokens_are_consistent_and_reversible(vault: Vault) -> None:
    a1 = vault.tokenize("crm", "PERSON", "Alice")
    b = vault.tokenize("crm", "PERSON", "Bob")
    a2 = vault.tokenize("crm", "PERSON", "Alice")
    assert a1 == a2 == "<PERSON_1>" and b == "<PERSON_2>"
    assert vault.tokenize("other", "PERSON", "Bob") == "<PERSON_1>"  # scopes are independent
    assert vault.detokenize_many("crm", [a1, b, "<PERSON_9>"]) == {a1: "Alice", b: "Bob"}


def test_database_holds_no_plain_values(vault: Vault) -> None:
    vault.tokenize_many("crm", [("EMAIL_ADDRESS", "alice@example.com"), ("PERSON", "Alice Liddell")])
    dump = b""
    with vault.engine.connect() as conn:
        for table in ("veil_tokens", "veil_keys", "veil_counters", "veil_audit"):
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}"):
                dump += b"|".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert dump and b"alice@example.com" not in dump and b"Alice Liddell" not in dump


def test_wrong_master_key_fails_loudly(vault: Vault, tmp_path: Path) -> None:
    token = vault.tokenize("crm", "PERSON", "Alice")
    other = Vault(vault.url, master_key=MasterKey(b"x" * 32, "test"))
    with pytest.raises(IntegrityError, match="neither the current nor a previous"):
        other.detokenize_many("crm", [token])


def test_tampered_ciphertext_fails_loudly(vault: Vault) -> None:
    token = vault.tokenize("crm", "PERSON", "Alice")
    with vault.engine.begin() as conn:
        blob = conn.execute(select(tokens.c.ciphertext).where(tokens.c.token == token)).scalar_one()
        flipped = bytes(blob[:-1]) + bytes([blob[-1] ^ 1])
        conn.execute(update(tokens).where(tokens.c.token == token).values(ciphertext=flipped))
    with pytest.raises(IntegrityError, match="tampered"):
        Vault(vault.url, master_key=vault.master).detokenize_many("crm", [token])


def test_crypto_shredding_makes_a_subjects_tokens_irreversible(vault: Vault) -> None:
    t1 = vault.tokenize("crm", "PERSON", "Alice", subject="user-1")
    t2 = vault.tokenize("crm", "PERSON", "Bob", subject="user-2")
    assert vault.shred("crm", "user-1") == 1
    assert vault.detokenize_many("crm", [t1, t2]) == {t2: "Bob"}


def test_token_formats_and_tolerant_finders(vault: Vault) -> None:
    user = TokenFormat("User{n:05d}")
    assert vault.tokenize("s", "PERSON", "Carol", user) == "User00001"
    h = TokenFormat("{entity}-{hash:8}")
    token = vault.tokenize("s", "PHONE_NUMBER", "+44 20 7946 0958", h)
    assert token.startswith("PHONE_NUMBER-") and len(token) == len("PHONE_NUMBER-") + 8
    finder = TokenFormat().finder(["PERSON", "EMAIL_ADDRESS"])
    names = {"PERSON": "PERSON", "EMAILADDRESS": "EMAIL_ADDRESS"}
    for text, want in [("<PERSON_1>", "<PERSON_1>"), ("[person 1]", "<PERSON_1>"), ("Person-12.", "<PERSON_12>"),
                       ("<email_address_3>", "<EMAIL_ADDRESS_3>")]:  # fmt: skip
        m = finder.search(text)
        assert m is not None and TokenFormat().canonical(m, names) == want, text
    assert finder.search("PERSONAL_1") is None


@pytest.mark.parametrize("template", ["{entity}", "{n}{bogus}", "x{hash:3}", "{n:zz}"])
def test_bad_formats_are_refused(template: str) -> None:
    with pytest.raises(ConfigError, match="token format"):
        TokenFormat(template)


def _writer(url: str, worker: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    v = Vault(url, master_key=MasterKey(b"k" * 32, "test"))
    items = [("PERSON", f"person-{i}") for i in range(300)]  # every worker tokenizes the same values
    got = []
    for start in range(0, 300, 25):
        got.extend(v.tokenize_many("crm", items[start + (worker % 3) : start + 25]))
    out.put(v.tokenize_many("crm", items))


def test_concurrent_writers_lose_nothing_and_never_duplicate(db_url: str) -> None:
    url = db_url
    Vault(url, master_key=MasterKey(b"k" * 32, "test")).scope_keys("crm")
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, i, q)) for i in range(8)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(r == results[0] for r in results)  # every process got the same token for every value
    assert len(set(results[0])) == 300
    v = Vault(url, master_key=MasterKey(b"k" * 32, "test"))
    with v.engine.connect() as conn:
        assert len(conn.execute(select(tokens.c.id)).all()) == 300
    back = v.detokenize_many("crm", results[0])
    assert sorted(back.values()) == sorted(f"person-{i}" for i in range(300))
