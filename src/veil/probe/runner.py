"""Run the suite against OpenAI-compatible endpoints (a model, an agent, or a model behind ``veil guard``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from veil.errors import ConfigError
from veil.probe.bait import Bait
from veil.probe.rules import Answer, judge
from veil.probe.suite import Probe

MAX_ANSWER = 4_000_000  # bytes of one answer


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str  # up to /v1
    model: str
    api_key_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"target '{self.name}': the URL must start with http:// or https://")
        if self.api_key_env and not os.environ.get(self.api_key_env):
            raise ConfigError(f"target '{self.name}': the environment variable {self.api_key_env} is not set")

    def auth(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env or "", "")
        return {**self.headers, **({"authorization": f"Bearer {key}"} if key else {})}


@dataclass(frozen=True)
class Result:
    target: str
    probe: str
    family: str
    status: str  # pass | fail | blocked (the guard refused the request: nothing reached the model) | error
    evidence: list[str]
    answer: str  # masked: planted values and detected personal data replaced by their kind

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "probe": self.probe, "family": self.family, "status": self.status,
                "evidence": self.evidence, "answer": self.answer}  # fmt: skip


def parse_answer(doc: Any) -> Answer:
    message = doc["choices"][0]["message"]
    calls = [(str(c.get("function", {}).get("name", "")), str(c.get("function", {}).get("arguments", "")))
             for c in message.get("tool_calls") or []]  # fmt: skip
    return Answer(str(message.get("content") or ""), calls)


def mask(text: str, bait: Bait, detector: Any) -> str:
    """The answer as a report may show it: planted values and whatever the detector finds, replaced by kinds."""
    for name, value in sorted(bait.values.items(), key=lambda kv: -len(kv[1])):
        if len(value) >= 4 and "\n" not in value:
            text = text.replace(value, f"[{name}]")
    out, pos = [], 0
    for f in sorted(detector.detect(text), key=lambda f: f.start):
        if f.start >= pos:
            out += [text[pos : f.start], f"[{f.entity}]"]
            pos = f.end
    return "".join([*out, text[pos:]])[:600]


def ask(client: httpx.Client, target: Target, probe: Probe, detector: Any, seed: int | None) -> Result:
    bait = Bait.fresh(seed)
    url = target.base_url.rstrip("/") + "/chat/completions"
    try:
        status, body = _post(client, url, probe.request(bait, target.model), target.auth())
    except httpx.HTTPError as exc:
        return Result(target.name, probe.id, probe.family, "error", [f"no answer: {type(exc).__name__}"], "")
    except _TooLong:
        return Result(target.name, probe.id, probe.family, "error", [f"answer over {MAX_ANSWER:,} bytes"], "")
    if status in (400, 403, 422) and b"veil_" in body:
        why = f"refused by the guard ({_error_code(status, body)})"
        return Result(target.name, probe.id, probe.family, "blocked", [why], "")
    try:
        if not 200 <= status < 300:
            raise ValueError(status)
        answer = parse_answer(json.loads(body))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return Result(target.name, probe.id, probe.family, "error", [f"unusable answer (HTTP {status})"], "")
    passed, evidence = judge(probe.rule, answer, bait, detector)
    shown = mask(answer.everything, bait, detector)
    return Result(target.name, probe.id, probe.family, "pass" if passed else "fail", evidence, shown)


class _TooLong(Exception):
    pass


def _post(client: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
    """The status and body, read only up to MAX_ANSWER bytes (an endpoint under test may be hostile)."""
    with client.stream("POST", url, json=body, headers=headers) as resp:
        got = bytearray()
        for chunk in resp.iter_bytes():
            got += chunk
            if len(got) > MAX_ANSWER:
                raise _TooLong
        return resp.status_code, bytes(got)


def _error_code(status: int, body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"


def run(targets: list[Target], probes: list[Probe], detector: Any, *, repeat: int = 1, workers: int = 4,
        timeout: float = 120.0, seed: int | None = None,
        progress: Callable[[Result], None] | None = None) -> list[Result]:  # fmt: skip
    """Every probe ``repeat`` times against every target (fresh bait each time; ``seed`` makes the bait repeatable)."""
    jobs = [(t, p, None if seed is None else seed + i) for t in targets for i in range(repeat) for p in probes]
    with httpx.Client(timeout=timeout) as client, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(ask, client, t, p, detector, s) for t, p, s in jobs]
        results = []
        for future in futures:
            results.append(future.result())
            if progress:
                progress(results[-1])
    return results
