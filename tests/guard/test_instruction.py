"""The guard's alignment lever (guard.system_prompt) and what it gives back (guard.restore)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.guard.conftest import Script, Server, chat_answer, scripted_app
from tests.guard.test_isolation import A_TEXT, A_VALUES, chat, tokens_sent
from veil.anonymizer import Anonymizer
from veil.guard import Guard, wrap
from veil.policy import Policy
from veil.vault import MasterKey, Vault

RULE = "Never reveal, infer or repeat personal data."


def _guard(tmp_path: Path, guard_policy: dict[str, Any]) -> Guard:
    vault = Vault(f"sqlite:///{tmp_path / 'v.db'}", master_key=MasterKey(b"i" * 32, "test"))
    policy = Policy.model_validate({"detection": {"ner": False}, "default": {"operator": "pseudonymize"},
                                    "guard": guard_policy})  # fmt: skip
    return Guard(policy, Anonymizer(policy, vault=vault))


def test_the_instruction_is_the_first_system_message_of_every_chat_call(tmp_path: Path) -> None:
    script = Script()
    guard = _guard(tmp_path, {"system_prompt": RULE})
    with Server(scripted_app(script)) as up:
        client = wrap(openai.OpenAI(base_url=up.url + "/v1", api_key="k", max_retries=0), guard=guard)
        script.answer(chat_answer({"content": "ok"}))
        body = chat(A_TEXT)
        body["messages"].insert(0, {"role": "system", "content": "You are a helpful assistant."})
        client.chat.completions.create(**body)
        sent = script.received[-1]["messages"]
        assert sent[0] == {"role": "system", "content": RULE}
        assert sent[1]["content"] == "You are a helpful assistant." and len(sent) == 3
        assert body["messages"][0]["content"] == "You are a helpful assistant."  # the caller's body is untouched
    call = guard.new_call(path="/v1/responses")
    out = guard.protect_request({"model": "m", "input": "hi", "instructions": "Be brief."}, "/v1/responses", call)
    assert out["instructions"] == f"{RULE}\n\nBe brief."


def test_the_instruction_cannot_be_empty() -> None:
    with pytest.raises(ValueError):
        Policy.model_validate({"guard": {"system_prompt": ""}})


@pytest.mark.parametrize("rule", ["none", ["US_SSN"]])
def test_restore_none_or_some_leaves_the_rest_as_tokens(tmp_path: Path, rule: Any) -> None:
    script = Script()
    guard = _guard(tmp_path, {"restore": rule})
    with Server(scripted_app(script)) as up:
        client = wrap(openai.OpenAI(base_url=up.url + "/v1", api_key="k", max_retries=0), guard=guard)
        script.answer(chat_answer({"content": "first"}))
        client.chat.completions.create(**chat(A_TEXT))
        toks = tokens_sent(script)
        tool = {"id": "t", "type": "function", "function": {"name": "send", "arguments": json.dumps({"x": toks})}}
        script.answer(chat_answer({"content": " ".join(toks), "tool_calls": [tool]}))
        answer = client.chat.completions.create(**chat(A_TEXT)).model_dump_json()
    ssn, email = A_VALUES
    assert email not in answer  # never restored under either rule
    assert (ssn in answer) == (rule != "none")
    guard.audit.flush()
    last = [r for r in guard.anonymizer.vault.audit.records() if r["action"] == "guard.request"][-1]
    assert json.loads(last["details"])["foreign_tokens"] == 0  # withheld tokens are not "foreign"
