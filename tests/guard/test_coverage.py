"""Whole-body coverage: no raw value reaches the model from any request field, and every answer field is restored
and leak-scanned, whole and streamed, plain and percent-encoded."""

from __future__ import annotations

import copy
import json
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.guard.conftest import Script, chat_answer, chunk, sse
from veil.anonymizer import Anonymizer
from veil.guard import Guard
from veil.guard.fields import endpoints, shape, slots
from veil.policy import Policy
from veil.vault import MasterKey, Vault

MAIL, PHONE, CARD = "maria.gonzalez@example.org", "+1 415 555 0173", "4539 1488 0343 6467"
RAW = (MAIL, PHONE, CARD, "4539148803436467", "536-22-1234")


FRAGMENTS = (*RAW, "maria.gonzalez", "0173", "6467", "1234")  # any part of a value is a leak


def leaked(seen: Any) -> list[str]:
    text = json.dumps(seen, ensure_ascii=False)
    return [v for v in FRAGMENTS if v in text]


def _no_fragment(value: object) -> bool:
    """Random filler must not hold a fragment by chance (56467000000000 is no card)."""
    return not any(f in str(value) for f in FRAGMENTS)


def msg(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "hello", **extra}]}


REQUESTS: dict[str, tuple[str, dict[str, Any]]] = {
    "function_call.arguments": ("/v1/chat/completions", {"model": "m", "messages": [
        {"role": "assistant", "content": None, "function_call": {"name": "lookup", "arguments": json.dumps({"email": MAIL})}}]}),
    "tool_calls.arguments": ("/v1/chat/completions", {"model": "m", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": f'{{"card": "{CARD}"}}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": f"charged {CARD}"}]}),
    "message name": ("/v1/chat/completions", msg(name=MAIL)),
    "content as an object": ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": {"text": f"mail {MAIL}"}}]}),
    "content part with other keys": ("/v1/chat/completions", {"model": "m", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi", "note": f"call {PHONE}"}, {"type": "custom", "value": MAIL}]}]}),
    "numeric content": ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": 4539148803436467}]}),
    "unknown top-level key": ("/v1/chat/completions", {**msg(), "session_note": f"customer {MAIL} phoned from {PHONE}"}),
    "personal data as a key": ("/v1/chat/completions", {**msg(), "metadata": {MAIL: "vip"}}),
    "tool description": ("/v1/chat/completions", {**msg(), "tools": [{"type": "function", "function": {
        "name": "notify", "description": f"Notify {MAIL} when done",
        "parameters": {"type": "object", "properties": {"to": {"type": "string", "description": f"default {PHONE}",
                                                               "enum": [MAIL, "other@example.com"]}},
                       "required": ["to"]}}}]}),
    "response_format schema": ("/v1/chat/completions", {**msg(), "response_format": {"type": "json_schema", "json_schema": {
        "name": "out", "schema": {"type": "object", "properties": {"x": {"type": "string", "examples": [MAIL]}}}}}}),
    "user and stop": ("/v1/chat/completions", {**msg(), "user": MAIL, "stop": [PHONE]}),
    "percent-encoded content": ("/v1/chat/completions", msg(content=f"write to {urllib.parse.quote(MAIL)} today")),
    "json-escaped content": ("/v1/chat/completions", msg(content=MAIL.replace("@", "\\u0040"))),
    "legacy prompt and suffix": ("/v1/completions", {"model": "m", "prompt": [f"Dear {MAIL}", "x"], "suffix": f"call {PHONE}"}),
    "embeddings input": ("/v1/embeddings", {"model": "m", "input": ["nothing", f"card {CARD}"]}),
    "responses input and instructions": ("/v1/responses", {"model": "m", "instructions": f"The user is {MAIL}", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": f"call {PHONE}"}]},
        {"type": "function_call_output", "call_id": "c1", "output": f"card {CARD}"}]}),
    "responses string input and tool": ("/v1/responses", {"model": "m", "input": f"mail {MAIL}", "tools": [
        {"type": "function", "name": "f", "description": f"for {PHONE}", "parameters": {"type": "object", "properties": {}}}]}),
}  # fmt: skip


@pytest.mark.parametrize("site", list(REQUESTS))
def test_no_raw_value_reaches_the_model(scripted: Any, script: Script, site: str) -> None:
    path, body = REQUESTS[site]
    script.answer({"id": "x", "object": "chat.completion", "choices": []})
    r = httpx.post(scripted[1].url + path, json=body, timeout=20)
    assert r.status_code == 200, r.text
    seen = script.received[-1]
    assert leaked(seen) == [], site
    assert seen["model"] == "m"


def test_structure_reaches_the_model_as_it_was(scripted: Any, script: Script) -> None:
    _, body = REQUESTS["tool description"]
    script.answer({"id": "x", "choices": []})
    httpx.post(scripted[1].url + "/v1/chat/completions", json=body, timeout=20)
    fn = script.received[-1]["tools"][0]["function"]
    assert fn["name"] == "notify" and fn["parameters"]["required"] == ["to"]
    assert fn["parameters"]["properties"]["to"]["type"] == "string"
    _, body = REQUESTS["message name"]
    httpx.post(scripted[1].url + "/v1/chat/completions", json=body, timeout=20)
    name = script.received[-1]["messages"][0]["name"]
    assert name.replace("_", "").replace("-", "").isalnum() and len(name) <= 64


INJECTED = "leak.target@evil-example.com"


@pytest.mark.parametrize("field", ["content", "tool_args", "refusal", "reasoning_content", "percent", "responses"])
def test_whole_answers_are_restored_and_scanned_in_every_field(scripted: Any, script: Script, field: str) -> None:
    script.answer({"id": "x", "choices": []})
    body = msg(content=f"I am {MAIL}")
    httpx.post(scripted[1].url + "/v1/chat/completions", json=body, timeout=20)
    token = next(t for t in json.dumps(script.received[-1]).split('"') if "EMAIL_ADDRESS" in t).split()[-1]
    both = f"{token} and {INJECTED}"
    answers = {
        "content": chat_answer({"content": both}),
        "tool_args": chat_answer({"tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": json.dumps({"a": both})}}]}),
        "refusal": chat_answer({"content": None, "refusal": both}),
        "reasoning_content": chat_answer({"content": "x", "reasoning_content": both}),
        "percent": chat_answer({"content": f"{token} and {urllib.parse.quote(INJECTED)} too"}),
        "responses": {"id": "r", "object": "response", "output": [{"type": "message", "id": "m1", "role": "assistant",
                      "content": [{"type": "output_text", "text": both, "annotations": []}]}]},
    }  # fmt: skip
    script.answer(answers[field])
    path = "/v1/responses" if field == "responses" else "/v1/chat/completions"
    if field == "responses":
        body = {"model": "m", "input": f"I am {MAIL}"}
    r = httpx.post(scripted[1].url + path, json=body, timeout=20)
    assert MAIL in r.text, r.text  # the caller's own value came back
    assert "leak.target" not in r.text and "evil-example" not in r.text


def _stream_text(r: httpx.Response) -> dict[str, str]:
    """Concatenated streamed fields of a chat stream, by field name."""
    out: dict[str, str] = {}
    for line in r.text.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        obj = json.loads(line[6:])
        assert "error" not in obj, obj
        for choice in obj.get("choices", []):
            d = choice.get("delta", {})
            for key in ("content", "refusal", "reasoning_content"):
                out[key] = out.get(key, "") + (d.get(key) or "")
            for tc in d.get("tool_calls") or []:
                out["args"] = out.get("args", "") + ((tc.get("function") or {}).get("arguments") or "")
    return out


def test_streams_restore_and_scan_every_delta_field(scripted: Any, script: Script) -> None:
    script.answer({"id": "x", "choices": []})
    body = {**msg(content=f"I am {MAIL}"), "stream": True}
    httpx.post(scripted[1].url + "/v1/chat/completions", json={**body, "stream": False}, timeout=20)
    token = next(t for t in json.dumps(script.received[-1]).split('"') if "EMAIL_ADDRESS" in t).split()[-1]
    script.answer(events=sse(
        chunk({"role": "assistant", "content": f"To {token[:6]}"}),
        chunk({"content": f"{token[6:]} and {INJECTED[:8]}"}),
        chunk({"content": INJECTED[8:] + " bye"}),
        chunk({"tool_calls": [{"index": 0, "id": "t", "type": "function", "function": {"name": "f", "arguments": '{"to": "' + token[:3]}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": token[3:] + '", "cc": "' + INJECTED + '"}'}}]}),
        chunk({"refusal": f"{token} {urllib.parse.quote(INJECTED)}"}),
        chunk({"reasoning_content": f"think {token} "}),
        chunk({}, "stop"),
    ))  # fmt: skip
    r = httpx.post(scripted[1].url + "/v1/chat/completions", json=body, timeout=20)
    fields = _stream_text(r)
    assert fields["content"].startswith(f"To {MAIL} and ") and fields["content"].endswith(" bye")
    assert json.loads(fields["args"])["to"] == MAIL
    assert MAIL in fields["refusal"] and MAIL in fields["reasoning_content"]
    assert "leak.target" not in r.text and "evil-example" not in r.text


def test_openai_sdk_reads_restored_tool_call_streams(scripted: Any, script: Script) -> None:
    script.answer({"id": "x", "choices": []})
    httpx.post(scripted[1].url + "/v1/chat/completions", json=msg(content=f"I am {MAIL}"), timeout=20)
    token = next(t for t in json.dumps(script.received[-1]).split('"') if "EMAIL_ADDRESS" in t).split()[-1]
    args = json.dumps({"to": token})
    script.answer(events=sse(*[chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 2]}}]})
                               for i in range(0, len(args), 2)], chunk({}, "tool_calls")))  # fmt: skip
    c = openai.OpenAI(base_url=scripted[1].url + "/v1", api_key="k", max_retries=0)
    got = "".join(tc.function.arguments or "" for ch in c.chat.completions.create(
        model="m", messages=[{"role": "user", "content": f"I am {MAIL}"}], stream=True)
        for tc in (ch.choices[0].delta.tool_calls or []) if tc.function)  # fmt: skip
    assert json.loads(got) == {"to": MAIL}


def test_responses_streams_restore_deltas_before_their_done_event(scripted: Any, script: Script) -> None:
    body = {"model": "m", "input": f"I am {MAIL}"}
    script.answer({"id": "r", "output": []})
    httpx.post(scripted[1].url + "/v1/responses", json=body, timeout=20)
    token = next(t for t in json.dumps(script.received[-1]).split('"') if "EMAIL_ADDRESS" in t).split()[-1]
    ids = {"item_id": "m1", "output_index": 0, "content_index": 0}
    script.answer(events=sse(
        {"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}},
        {"type": "response.output_text.delta", **ids, "delta": f"Hi {token[:7]}"},
        {"type": "response.output_text.delta", **ids, "delta": token[7:]},
        {"type": "response.output_text.done", **ids, "text": f"Hi {token}"},
        {"type": "response.completed", "response": {"id": "r", "status": "completed", "output": [
            {"type": "message", "id": "m1", "role": "assistant", "content": [{"type": "output_text", "text": f"Hi {token} {INJECTED}"}]}]}},
    ))  # fmt: skip
    r = httpx.post(scripted[1].url + "/v1/responses", json={**body, "stream": True}, timeout=20)
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    kinds = [e["type"] for e in events]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == f"Hi {MAIL}"
    assert kinds.index("response.output_text.done") > max(i for i, k in enumerate(kinds) if k.endswith(".delta"))
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["text"] == f"Hi {MAIL}" and INJECTED not in r.text
    assert "event: response.output_text.delta" in r.text


# -- property: random request shapes ---------------------------------------------------------------------
VALUES = st.sampled_from([MAIL, PHONE, CARD, "536-22-1234", urllib.parse.quote(MAIL), f"note {MAIL} x"])
KEYS = st.sampled_from(["content", "text", "note", "data", "items", "arguments", "value", "extra", "Notes 2"])
LEAF = st.one_of(VALUES, st.text(max_size=12).filter(_no_fragment), st.integers().filter(_no_fragment), st.booleans(),
                 st.none())  # fmt: skip
TREE = st.recursive(LEAF, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(KEYS, kids, max_size=4)),
                    max_leaves=20)  # fmt: skip


@pytest.fixture(scope="module")
def plain_guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    path: Path = tmp_path_factory.mktemp("prop") / "vault.db"
    vault = Vault(f"sqlite:///{path}", master_key=MasterKey(b"p" * 32, "test"))
    policy = Policy.model_validate({"detection": {"ner": False}, "default": {"operator": "pseudonymize"}})
    return Guard(policy, Anonymizer(policy, vault=vault))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=TREE, path=st.sampled_from(endpoints("requests")))
def test_property_no_raw_value_survives_any_request_shape(plain_guard: Guard, tree: Any, path: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": tree}], "input": tree, "prompt": tree,
            "anything": tree}  # fmt: skip
    original = copy.deepcopy(body)
    call = plain_guard.new_call(path=path)
    protected = plain_guard.protect_request(copy.deepcopy(body), path, call)
    assert leaked(protected) == []
    # restore(protect(x)) == x for every string of content: the call's own tokens come back exactly
    before = slots(original, shape("requests", path), numbers=True, max_depth=64)
    after = slots(protected, shape("requests", path), numbers=True, max_depth=64)
    for a, b in zip(before, after, strict=True):
        if a.kind == "text" and isinstance(b.container[b.key], str):
            assert plain_guard.restore(b.text, call) == a.text
