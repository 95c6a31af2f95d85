from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest

from veil.guard import Guard, wrap

PII = "Hi, I'm writing from ann.lee@example.com, call me on +44 20 7946 0958."


def client(servers: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=servers[1].url + "/v1", api_key="client-key", max_retries=0, timeout=10)


def upstream_saw(received: list[dict[str, Any]]) -> str:
    return json.dumps(received[-1])


def test_chat_round_trip_hides_pii_from_upstream(servers: Any, received: list[dict[str, Any]]) -> None:
    resp = client(servers).chat.completions.create(model="echo-1", messages=[{"role": "user", "content": PII}])
    assert resp.choices[0].message.content == f"You said: {PII}"
    seen = upstream_saw(received)
    assert "ann.lee@example.com" not in seen and "7946" not in seen and "<EMAIL_ADDRESS_" in seen


def test_streaming_restores_tokens_split_across_chunks(servers: Any, received: list[dict[str, Any]]) -> None:
    stream = client(servers).chat.completions.create(
        model="echo-1",
        stream=True,
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": PII}],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == f"You said: {PII}"
    assert "ann.lee@example.com" not in upstream_saw(received)


def test_content_parts_and_embeddings(servers: Any, received: list[dict[str, Any]]) -> None:
    c = client(servers)
    resp = c.chat.completions.create(
        model="echo-1", messages=[{"role": "user", "content": [{"type": "text", "text": PII}]}]
    )
    assert "ann.lee@example.com" in (resp.choices[0].message.content or "")
    emb = c.embeddings.create(model="echo-1", input=["mail ann.lee@example.com", "nothing"])
    assert len(emb.data) == 2
    assert "ann.lee@example.com" not in upstream_saw(received)


def test_models_pass_through_and_unknown_paths_are_refused(servers: Any) -> None:
    assert [m.id for m in client(servers).models.list()] == ["echo-1"]
    r = httpx.post(servers[1].url + "/v1/files", json={})
    assert r.status_code == 404 and r.json()["error"]["type"] == "veil_path_refused"


def test_secrets_are_blocked(servers: Any, received: list[dict[str, Any]]) -> None:
    before = len(received)
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client(servers).chat.completions.create(
            model="echo-1", messages=[{"role": "user", "content": "my key is AKIAIOSFODNN7EXAMPLE, fix my script"}]
        )
    assert "API_KEY" in str(err.value)
    assert len(received) == before  # never reached the upstream


def test_leaks_in_answers_are_masked(servers: Any) -> None:
    resp = client(servers).chat.completions.create(
        model="echo-1", messages=[{"role": "user", "content": "LEAK please"}]
    )
    content = resp.choices[0].message.content or ""
    assert "leak.target@evil-example.com" not in content and "****" in content


def test_bad_requests_and_upstream_failures(servers: Any) -> None:
    url = servers[1].url + "/v1/chat/completions"
    r = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    r = httpx.post(url, content=b"x" * 5_000_000, headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = httpx.post(url, json={"model": "echo-1", "messages": [{"role": "user", "content": "FAIL500"}]})
    assert r.status_code == 500 and "upstream exploded" in r.text
    r = httpx.post(url, json={"model": "echo-1", "messages": [{"role": "user", "content": "SLOW"}]}, timeout=10)
    assert r.status_code == 504 and r.json()["error"]["type"] == "veil_upstream_timeout"


def test_upstream_down_is_a_clear_error(guard: Guard) -> None:
    from tests.guard.conftest import Server, free_port
    from veil.guard.proxy import create_app

    with Server(create_app(guard, f"http://127.0.0.1:{free_port()}")) as proxy:
        r = httpx.post(
            proxy.url + "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        )
    assert r.status_code == 502 and r.json()["error"]["type"] == "veil_upstream_error"


def test_concurrent_requests_do_not_mix(servers: Any) -> None:
    def one(i: int) -> tuple[str, str]:
        text = f"I am user{i}@example.com with card 4111 1111 1111 1111 ref {i}"
        resp = client(servers).chat.completions.create(model="echo-1", messages=[{"role": "user", "content": text}])
        return text, resp.choices[0].message.content or ""

    with ThreadPoolExecutor(16) as pool:
        for text, answer in pool.map(one, range(48)):
            assert answer == f"You said: {text}"


def test_metrics_and_audit(servers: Any, guard: Guard) -> None:
    client(servers).chat.completions.create(model="echo-1", messages=[{"role": "user", "content": PII}])
    metrics = httpx.get(servers[1].url + "/metrics").text
    assert 'veil_guard_requests_total{path="/v1/chat/completions",result="200",tenant="open"}' in metrics
    assert 'veil_guard_entities_total{direction="request",entity="EMAIL_ADDRESS",tenant="open"}' in metrics
    guard.audit.flush()
    records = [r for r in guard.anonymizer.vault.audit.records() if r["action"] == "guard.request"]
    assert records and all("example.com" not in r["details"] for r in records)
    assert guard.anonymizer.vault.audit.verify().ok


def test_wrap_in_process(servers: Any, received: list[dict[str, Any]], guard: Guard) -> None:
    raw = openai.OpenAI(base_url=servers[0].url + "/v1", api_key="k", max_retries=0)
    wrapped = wrap(raw, guard=guard)
    resp = wrapped.chat.completions.create(model="echo-1", messages=[{"role": "user", "content": PII}])
    assert resp.choices[0].message.content == f"You said: {PII}"
    assert "ann.lee@example.com" not in upstream_saw(received)
    stream = wrapped.chat.completions.create(model="echo-1", stream=True, messages=[{"role": "user", "content": PII}])
    assert "".join(c.choices[0].delta.content or "" for c in stream) == f"You said: {PII}"
    assert [m.id for m in wrapped.models.list()] == ["echo-1"]  # everything else passes through


def test_streamed_leaks_are_masked_even_when_the_policy_blocks(servers: Any, guard: Guard) -> None:
    from tests.guard.conftest import Server
    from veil.anonymizer import Anonymizer
    from veil.guard.proxy import create_app
    from veil.policy import Policy

    policy = Policy.model_validate({"detection": {"ner": False}, "default": {"operator": "pseudonymize"},
                                    "guard": {"output": {"action": "block"}}})  # fmt: skip
    blocking = Guard(policy, Anonymizer(policy, vault=guard.anonymizer.vault))
    messages = [{"role": "user", "content": "LEAK please"}]
    with Server(create_app(blocking, servers[0].url)) as proxy:
        c = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0, timeout=10)
        with pytest.raises(openai.UnprocessableEntityError):  # a whole answer can be withheld
            c.chat.completions.create(model="echo-1", messages=messages)
        streamed = "".join(ch.choices[0].delta.content or "" for ch in c.chat.completions.create(
            model="echo-1", messages=messages, stream=True) if ch.choices)  # fmt: skip
    assert "leak.target@evil-example.com" not in streamed and "****" in streamed  # sent pieces cannot be withheld
    raw = openai.OpenAI(base_url=servers[0].url + "/v1", api_key="k", max_retries=0)
    wrapped = "".join(ch.choices[0].delta.content or "" for ch in wrap(raw, guard=blocking).chat.completions.create(
        model="echo-1", messages=messages, stream=True))  # fmt: skip
    assert "leak.target@evil-example.com" not in wrapped and "****" in wrapped
