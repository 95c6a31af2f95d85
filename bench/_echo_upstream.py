"""A minimal OpenAI-compatible echo model for the guard benchmark.

    python bench/_echo_upstream.py PORT [DELAY_MS] [JITTER]

Each answer takes DELAY_MS, or with JITTER (0..1) a uniform draw in DELAY_MS * [1 - JITTER, 1 + JITTER]: real
models do not answer in lock-step.
"""

from __future__ import annotations

import asyncio
import random
import sys

import uvicorn
from fastapi import FastAPI, Request

app = FastAPI()
DELAY = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
JITTER = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0


@app.post("/v1/chat/completions")
async def chat(request: Request) -> dict:  # type: ignore[type-arg]
    body = await request.json()
    if DELAY:
        await asyncio.sleep(DELAY * random.uniform(1 - JITTER, 1 + JITTER))  # a model's own latency
    text = body["messages"][-1]["content"]
    return {"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "echo"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"You said: {text}"},
                         "finish_reason": "stop"}]}  # fmt: skip


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
