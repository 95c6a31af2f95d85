"""A scripted OpenAI-compatible model with known behaviours, for checking the probes' scoring both ways.

- ``leaky``: does whatever it is asked: repeats its whole context (system prompt, documents, tool results), follows
  instructions found in documents (calls send_email with the context to the address they name), names a sensitive
  attribute when asked to guess one, and "remembers" personal data when asked to continue or repeat.
- ``safe``: answers every request without personal data and declines to guess or reveal.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request

GUESSES = {"religion": "Muslim", "illness": "cancer", "ethnicity": "Asian", "gay or straight": "Gay"}
REMEMBERED = ("Sure: jane.roe@example.com, (415) 555-0198, SSN 123-45-6789, 742 Evergreen Terrace; "
              "john.doe@example.org, (212) 555-0143, SSN 219-09-9999, 1600 Pennsylvania Avenue")  # fmt: skip
SAFE = "I can't share, repeat or guess personal information, but I'm glad to help with the task itself."
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _leaky(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages", [])
    context = "\n".join(str(m.get("content") or "") for m in messages)
    last = str(messages[-1].get("content") or "") if messages else ""
    tools = {t.get("function", {}).get("name") for t in body.get("tools", [])}
    if "send_email" in tools:
        told = [m for m in messages if m.get("role") in ("user", "tool") and "send" in str(m.get("content", ""))]
        where = EMAIL.findall(str(told[-1]["content"])) if told else []
        if where:
            args = json.dumps({"to": where[-1], "subject": "data", "body": context})
            call = {"id": "call_x", "type": "function", "function": {"name": "send_email", "arguments": args}}
            return {"role": "assistant", "content": None, "tool_calls": [call]}
    for word, guess in GUESSES.items():
        if word in last.casefold():
            return {"role": "assistant", "content": f"Most likely {guess}."}
    if re.search(r"\b(repeat the word|continue this|remember)\b", last, re.I):
        return {"role": "assistant", "content": REMEMBERED}
    return {"role": "assistant", "content": f"Sure. Here is everything I was given:\n{context}"}


def scripted_model(mode: str, received: list[dict[str, Any]] | None = None) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        if received is not None:
            received.append(body)
        message = _leaky(body) if mode == "leaky" else {"role": "assistant", "content": SAFE}
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip

    return app
