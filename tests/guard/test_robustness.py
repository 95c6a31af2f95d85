"""What a hostile client or a broken upstream does to the guard: clear JSON errors, bounded memory, no crash."""

from __future__ import annotations

import json
import select
import socket
from typing import Any

import httpx
import openai
import pytest

from tests.guard.conftest import Script, Server, chunk, scripted_app, sse
from veil.guard import Guard
from veil.guard.proxy import create_app

CHAT = "/v1/chat/completions"


def body(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}], **extra}


@pytest.mark.parametrize("depth", [100_000, 5_000, 80])
def test_deep_json_is_a_clear_400(scripted: Any, script: Script, depth: int) -> None:
    n = len(script.received)
    raw = ('{"model": "m", "messages": [{"role": "user", "content": ' + "[" * depth + "]" * depth + "}]}").encode()
    r = httpx.post(scripted[1].url + CHAT, content=raw, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 400 and "nested" in r.json()["error"]["message"]
    assert len(script.received) == n


def test_a_chunked_body_is_refused_as_it_passes_the_limit(scripted: Any) -> None:
    """No Content-Length: the guard counts bytes as they arrive and answers 413 while the client is still sending."""
    host, port = scripted[1].url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    sock.sendall(head.encode())
    piece = b"a" * 65536
    sent, answer = 0, b""
    try:
        while sent < 200_000_000:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
            if select.select([sock], [], [], 0)[0]:
                answer = sock.recv(4096)
                break
    except OSError:
        answer = answer or sock.recv(4096)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    # refused near the 4 MB limit: what is sent past it sits in loopback socket buffers (several MB) while the
    # client is scheduled; a guard that read on would take all 200 MB before answering
    assert sent < 40_000_000


def test_bodies_that_are_not_objects_or_not_json(scripted: Any) -> None:
    url = scripted[1].url + CHAT
    for raw, msg in ((b"[1, 2]", "JSON object"), (b"\xff\xfe", "not valid JSON"), (b'{"a": ', "line 1")):
        r = httpx.post(url, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and msg in r.json()["error"]["message"]
        assert "\xff" not in r.text


@pytest.mark.parametrize(
    "bad",
    [
        chunk({"content": "x"}, index="abc"),  # type: ignore[arg-type]
        {"choices": "nope"},
        {"choices": [{"index": 0, "delta": "text"}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": "one"}]}}]},
        "not json at all",
    ],
)
def test_a_broken_stream_chunk_ends_the_stream_with_an_error_event(scripted: Any, script: Script, bad: Any) -> None:
    script.answer(events=sse(chunk({"role": "assistant", "content": "Hello there "}), bad, chunk({"content": "more"})))
    r = httpx.post(scripted[1].url + CHAT, json=body(stream=True), timeout=20)
    assert r.status_code == 200
    datas = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    assert json.loads(datas[0])["choices"][0]["delta"]["content"] == "Hello there "
    last = json.loads(datas[-1])
    assert last["error"]["type"] == "veil_upstream_error" and "more" not in r.text
    c = openai.OpenAI(base_url=scripted[1].url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIError):
        for _ in c.chat.completions.create(**body(stream=True)):
            pass


def test_comment_lines_and_odd_fields_of_the_upstream_stream_are_not_passed_raw(scripted: Any, script: Script) -> None:
    script.answer(events=[": leak.target@evil-example.com", "retry: 10", *sse(chunk({"content": "ok"}, "stop"))])
    r = httpx.post(scripted[1].url + CHAT, json=body(stream=True), timeout=20)
    assert "evil-example" not in r.text and '"ok"' in r.text


def test_the_upstream_answer_is_bounded(guard: Guard) -> None:
    from veil.policy import Policy

    policy = Policy.model_validate({**guard.policy.model_dump(), "guard": {"max_answer_bytes": 2048}})
    small = Guard(policy, guard.anonymizer)
    script = Script()
    with Server(scripted_app(script)) as up, Server(create_app(small, up.url)) as proxy:
        script.answer({"choices": [{"index": 0, "message": {"content": "x" * 5000}}]})
        r = httpx.post(proxy.url + CHAT, json=body(), timeout=20)
        assert r.status_code == 502 and "over 2048 bytes" in r.json()["error"]["message"]
        script.answer(events=sse(chunk({"content": "y" * 5000})))
        r = httpx.post(proxy.url + CHAT, json=body(stream=True), timeout=20)
        assert "error" in r.text.splitlines()[-2] and "y" * 100 not in r.text
        script.answer(json.loads('{"choices": ' + "[" * 500 + "]" * 500 + "}"))  # under 2048 bytes, 500 deep
        r = httpx.post(proxy.url + CHAT, json=body(), timeout=20)
        assert r.status_code == 502 and "nested" in r.json()["error"]["message"]


def test_metric_labels_stay_bounded(scripted: Any) -> None:
    for i in range(30):
        httpx.post(scripted[1].url + f"/v1/invented/{i}", json={})
    metrics = httpx.get(scripted[1].url + "/metrics").text
    assert "invented" not in metrics and 'path="other"' in metrics


def test_health_and_readiness(scripted: Any) -> None:
    assert httpx.get(scripted[1].url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(scripted[1].url + "/readyz")
    assert ready.status_code == 200 and ready.json()["tiers"] == "regex"


def test_a_request_id_from_the_client_is_bounded(scripted: Any, script: Script) -> None:
    script.answer({"choices": []})
    r = httpx.post(scripted[1].url + CHAT, json=body(), headers={"x-request-id": "x" * 5000})
    assert len(r.headers["x-request-id"]) == 32


def test_a_failed_call_is_audited_and_counted_once(guard: Guard) -> None:
    """Unreachable model, answer over the limit: one audit record and one metric count per call."""
    from veil.policy import Policy
    from veil.storage.testing import free_port

    policy = Policy.model_validate({**guard.policy.model_dump(), "guard": {"max_answer_bytes": 2048}})
    small = Guard(policy, guard.anonymizer)
    script = Script()
    with Server(scripted_app(script)) as up, Server(create_app(small, up.url)) as proxy, \
            Server(create_app(small, f"http://127.0.0.1:{free_port()}")) as nowhere:  # fmt: skip
        script.answer({"choices": [{"index": 0, "message": {"content": "x" * 5000}}]})
        ids = []
        for server, status in ((proxy, 502), (nowhere, 502)):
            r = httpx.post(server.url + CHAT, json=body(), headers={"x-request-id": f"once-{status}-{server.port}"})
            assert r.status_code == status
            ids.append(r.headers["x-request-id"])
            metrics = httpx.get(server.url + "/metrics").text
            line = next(x for x in metrics.splitlines() if x.startswith('veil_guard_requests_total{path="/v1/chat'))
            assert line.endswith(" 1.0"), line
        small.audit.flush()
        recs = [
            json.loads(r["details"]) for r in small.anonymizer.vault.audit.records() if r["action"] == "guard.request"
        ]
        for rid in ids:
            assert [d["request_id"] for d in recs].count(rid) == 1
