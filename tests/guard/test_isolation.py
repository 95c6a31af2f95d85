"""A call restores only the tokens its own request produced; tenants are authenticated and kept apart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.guard.conftest import Script, Server, chat_answer, chunk, scripted_app, sse
from veil.anonymizer import Anonymizer
from veil.guard import Guard, Tenants, wrap
from veil.guard.proxy import create_app
from veil.policy import Policy
from veil.vault import MasterKey, Vault
from veil.vault.access import AccessControl

A_TEXT = "My SSN is 536-22-1234, mail maria@example.com"
A_VALUES = ("536-22-1234", "maria@example.com")


def post(proxy: Server, body: dict[str, Any], key: str | None = None, **headers: str) -> httpx.Response:
    if key:
        headers["authorization"] = f"Bearer {key}"
    return httpx.post(proxy.url + "/v1/chat/completions", json=body, headers=headers, timeout=20)


def tokens_sent(script: Script) -> list[str]:
    return re.findall(r"<[A-Z_]+_\d+>", json.dumps(script.received[-1]))


def chat(text: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def a_tokens(scripted: Any, script: Script) -> list[str]:
    """Client A's call: its SSN and e-mail become tokens upstream."""
    script.answer(chat_answer({"content": "ok"}))
    assert post(scripted[1], chat(A_TEXT)).status_code == 200
    found = tokens_sent(script)
    assert len(found) == 2 and not any(v in json.dumps(script.received[-1]) for v in A_VALUES)
    return found


def foreign_count(guard: Guard) -> int:
    guard.audit.flush()
    recs = [json.loads(r["details"]) for r in guard.anonymizer.vault.audit.records() if r["action"] == "guard.request"]
    return int(recs[-1]["foreign_tokens"])


@pytest.mark.parametrize("where", ["content", "tool_call", "function_call", "refusal", "error_json", "error_text"])
def test_another_calls_tokens_are_never_restored(scripted: Any, script: Script, guard: Guard, where: str) -> None:
    tokens = a_tokens(scripted, script)
    carried = " and ".join(tokens)
    answers = {
        "content": dict(body=chat_answer({"content": f"Here: {carried}"})),
        "tool_call": dict(body=chat_answer({"content": None, "tool_calls": [{"id": "t1", "type": "function",
                          "function": {"name": "send", "arguments": json.dumps({"to": carried})}}]})),
        "function_call": dict(body=chat_answer({"function_call": {"name": "f", "arguments": carried}})),
        "refusal": dict(body=chat_answer({"content": None, "refusal": carried})),
        "error_json": dict(body={"error": {"message": f"bad input {carried}", "type": "invalid"}}, status=400),
        "error_text": dict(raw=f"upstream failed on {carried}".encode(), status=500),
    }  # fmt: skip
    script.answer(**answers[where])
    r = post(scripted[1], chat("Client B asks something harmless"))
    assert not any(v in r.text for v in A_VALUES), r.text
    assert all(t in r.text or json.dumps(t)[1:-1] in r.text for t in tokens)  # left exactly as they were
    assert foreign_count(guard) == 2
    metrics = httpx.get(scripted[1].url + "/metrics").text
    assert 'veil_guard_foreign_tokens_total{tenant="open"}' in metrics


@pytest.mark.parametrize("where", ["tool_call", "error"])
def test_a_calls_own_tokens_are_restored_in_tool_calls_and_errors(scripted: Any, script: Script, where: str) -> None:
    ssn, mail = a_tokens(scripted, script)  # the same text gets the same tokens on the next call
    if where == "tool_call":
        fn = {"name": "f", "arguments": json.dumps({"ssn": ssn, "to": mail})}
        script.answer(chat_answer({"content": None, "tool_calls": [{"id": "t", "type": "function", "function": fn}]}))
    else:
        script.answer({"error": {"message": f"cannot mail {mail} ({ssn})"}}, status=422)
    r = post(scripted[1], chat(A_TEXT))
    assert "maria@example.com" in r.text and "536-22-1234" in r.text, r.text


def test_streamed_foreign_tokens_stay_tokens(scripted: Any, script: Script) -> None:
    tokens = a_tokens(scripted, script)
    first, second = tokens[0], tokens[1]
    script.answer(events=sse(
        chunk({"role": "assistant", "content": "Value " + first[:5]}),
        chunk({"content": first[5:] + " and"}),
        chunk({"tool_calls": [{"index": 0, "id": "t", "type": "function", "function": {"name": "f", "arguments": '{"a": "' + second[:4]}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": second[4:] + '"}'}}]}),
        chunk({"refusal": f"no {first}"}),
        chunk({}, "stop"),
    ))  # fmt: skip
    c = openai.OpenAI(base_url=scripted[1].url + "/v1", api_key="k", max_retries=0)
    text, args, refusal = "", "", ""
    for ch in c.chat.completions.create(model="m", messages=[{"role": "user", "content": "B here"}], stream=True):
        d = ch.choices[0].delta
        text += d.content or ""
        refusal += getattr(d, "refusal", None) or ""
        for tc in d.tool_calls or []:
            args += tc.function.arguments or "" if tc.function else ""
    assert first in text and second in args and first in refusal
    assert not any(v in text + args + refusal for v in A_VALUES)


def test_wrap_restores_only_its_own_call(tmp_path: Path) -> None:
    script = Script()
    vault = Vault(f"sqlite:///{tmp_path / 'v.db'}", master_key=MasterKey(b"w" * 32, "test"))
    policy = Policy.model_validate({"detection": {"ner": False}, "default": {"operator": "pseudonymize"}})
    guard = Guard(policy, Anonymizer(policy, vault=vault))
    with Server(scripted_app(script)) as up:
        client = wrap(openai.OpenAI(base_url=up.url + "/v1", api_key="k", max_retries=0), guard=guard)
        script.answer(chat_answer({"content": "ok"}))
        client.chat.completions.create(**chat(A_TEXT))
        toks = tokens_sent(script)
        tool = {"id": "t", "type": "function", "function": {"name": "f", "arguments": json.dumps({"x": toks})}}
        script.answer(chat_answer({"content": " ".join(toks), "tool_calls": [tool]}))
        other = client.chat.completions.create(**chat("unrelated"))
        dumped = other.model_dump_json()
        assert not any(v in dumped for v in A_VALUES) and toks[0] in dumped
        own = client.chat.completions.create(**chat(A_TEXT))
        assert "maria@example.com" in (own.choices[0].message.content or "")
        assert "536-22-1234" in own.choices[0].message.tool_calls[0].function.arguments  # type: ignore[index,union-attr]


# -- tenants ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tenancy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("tenants") / "vault.db"
    vault = Vault(f"sqlite:///{path}", master_key=MasterKey(b"n" * 32, "test"))
    ac = AccessControl(vault)
    ac.create_role("tenant-a", ["guard"], scope="scope-a")
    ac.create_role("tenant-b", ["guard"], scope="scope-b", purposes=["support"])
    ac.create_role("reader", ["detokenize:masked"])
    keys = {name: ac.create_principal(name, role, totp=False)[0]
            for name, role in (("alice", "tenant-a"), ("bob", "tenant-b"), ("rita", "reader"))}  # fmt: skip
    policy = Policy.model_validate({"detection": {"ner": False}, "default": {"operator": "pseudonymize"},
                                    "purposes": {"support": {"keep": []}}})  # fmt: skip
    guard = Guard(policy, Anonymizer(policy, vault=vault))
    script = Script()
    with (
        Server(scripted_app(script)) as up,
        Server(create_app(guard, up.url, "sk-upstream", tenants=Tenants(ac))) as proxy,
    ):
        yield proxy, script, keys, guard


def test_tenants_authenticate_and_the_upstream_never_sees_their_key(tenancy: Any) -> None:
    proxy, script, keys, _ = tenancy
    script.answer(chat_answer({"content": "ok"}))
    assert post(proxy, chat("hi")).status_code == 401
    assert post(proxy, chat("hi"), "veil_nope_nope").status_code == 401
    assert post(proxy, chat("hi"), "sk-openai-key").status_code == 401
    r = post(proxy, chat("hi"), keys["rita"])
    assert r.status_code == 403 and "guard" in r.json()["error"]["message"]
    assert post(proxy, chat("hi"), keys["bob"]).status_code == 403  # bob's role needs a declared purpose
    assert post(proxy, chat("hi"), keys["bob"], **{"x-veil-purpose": "marketing"}).status_code == 403
    assert post(proxy, chat("hi"), keys["alice"], **{"x-veil-purpose": "nope"}).status_code == 400
    n = len(script.received)
    assert post(proxy, chat("hi"), keys["bob"], **{"x-veil-purpose": "support"}).status_code == 200
    assert post(proxy, chat("hi"), keys["alice"]).status_code == 200
    assert len(script.received) == n + 2  # refused calls never reached the upstream
    assert all(h.get("authorization") == "Bearer sk-upstream" for h in script.headers[-2:])


def test_tenants_get_their_own_scope_and_only_their_own_values(tenancy: Any) -> None:
    proxy, script, keys, guard = tenancy
    sent = {}
    for who, mail in (("alice", "alice.private@example.com"), ("bob", "bob.private@example.com")):
        script.answer(chat_answer({"content": "ok"}))
        headers = {"x-veil-purpose": "support"} if who == "bob" else {}
        assert post(proxy, chat(f"mail {mail}"), keys[who], **headers).status_code == 200
        sent[who] = tokens_sent(script)[0]
    # the scripted model answers each tenant with the other tenant's token: nobody gets the other's value
    for who, other in (("alice", "bob"), ("bob", "alice")):
        script.answer(chat_answer({"content": f"reply to {sent[other]}"}))
        headers = {"x-veil-purpose": "support"} if who == "bob" else {}
        r = post(proxy, chat("anything"), keys[who], **headers)
        assert r.status_code == 200 and "private@example.com" not in r.text
    guard.audit.flush()
    recs = [r for r in guard.anonymizer.vault.audit.records() if r["action"] == "guard.request"]
    actors = {r["actor"] for r in recs}
    assert {"alice", "bob"} <= actors
    assert {"scope-a", "scope-b"} <= {r["scope"] for r in recs}
    metrics = httpx.get(proxy.url + "/metrics").text
    assert 'tenant="alice"' in metrics and 'tenant="bob"' in metrics


def test_the_same_value_in_two_tenants_is_keyed_apart(tenancy: Any) -> None:
    vault = tenancy[3].anonymizer.vault
    assert vault.lookup_hash("scope-a", "EMAIL_ADDRESS", "x") != vault.lookup_hash("scope-b", "EMAIL_ADDRESS", "x")


def test_the_key_cache_checks_argon2_once_and_still_notices_a_disabled_key(tmp_path: Path) -> None:
    import threading

    from veil.errors import AccessDenied

    vault = Vault(f"sqlite:///{tmp_path / 'v.db'}", master_key=MasterKey(b"c" * 32, "test"))
    ac = AccessControl(vault)
    ac.create_role("app", ["guard"])
    key, _ = ac.create_principal("svc", "app", totp=False)
    now = [0.0]
    tenants = Tenants(ac, ttl=10.0, clock=lambda: now[0])  # a clock the test moves: no sleeps, no load flakes
    checks = 0
    real = ac.authenticate

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal checks
        checks += 1
        return real(*args, **kwargs)

    ac.authenticate = counted  # type: ignore[method-assign]
    threads = [threading.Thread(target=tenants.authenticate, args=(f"Bearer {key}", None)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert checks == 1  # eight concurrent first calls, one argon2 check
    assert tenants.cached(f"Bearer {key}", None) is not None
    now[0] += 11
    assert tenants.cached(f"Bearer {key}", None) is None  # stale: re-checked, by a database read
    assert tenants.authenticate(f"Bearer {key}", None).actor == "svc" and checks == 1
    ac.disable("svc")
    now[0] += 11
    with pytest.raises(AccessDenied):
        tenants.authenticate(f"Bearer {key}", None)
    with pytest.raises(AccessDenied):  # a key of the right shape but a forged secret never gets in
        tenants.authenticate(f"Bearer {key[:-3]}abc", None)
