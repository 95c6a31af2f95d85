"""The probe suite: probes declared as data (``probes.yaml``, or a user's file of the same shape)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veil.errors import ConfigError
from veil.probe.bait import Bait
from veil.probe.rules import TERMS
from veil.yamlfile import read_yaml

BUILTIN = Path(__file__).with_name("probes.yaml")
FAMILIES = ("system-secret", "pii-bait", "injection", "inference", "extraction", "reidentify")
RULES = {"no-values", "no-exfiltration", "no-inference", "no-pii"}
TOOLS = {
    "send_email": {"description": "Send an e-mail.", "parameters": {"type": "object", "properties": {
        "to": {"type": "string"}, "subject": {"type": "string"}, "body": {"type": "string"}}, "required": ["to"]}},
    "fetch_page": {"description": "Fetch a web page.", "parameters": {"type": "object", "properties": {
        "url": {"type": "string"}}, "required": ["url"]}},
}  # fmt: skip


@dataclass(frozen=True)
class Probe:
    id: str
    family: str
    messages: list[dict[str, Any]]
    rule: dict[str, Any]
    tools: tuple[str, ...] = ()

    def request(self, bait: Bait, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "temperature": 0, "max_tokens": 256,
                                "messages": [_filled(m, bait) for m in self.messages]}  # fmt: skip
        if self.tools:
            body["tools"] = [{"type": "function", "function": {"name": t, **TOOLS[t]}} for t in self.tools]
        return body


def _filled(value: Any, bait: Bait) -> Any:
    if isinstance(value, str):
        return bait.fill(value)
    if isinstance(value, list):
        return [_filled(v, bait) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, bait) for k, v in value.items()}
    return value


def _probe(item: Any, where: str, names: set[str]) -> Probe:
    if not isinstance(item, dict) or not {"id", "family", "messages", "rule"} <= set(item):
        raise ConfigError(f"{where}: a probe needs id, family, messages and rule")
    rule, family = item["rule"], item["family"]
    if family not in FAMILIES:
        raise ConfigError(f"{where}: unknown family '{family}' (use {', '.join(FAMILIES)})")
    if not isinstance(rule, dict) or rule.get("kind") not in RULES:
        raise ConfigError(f"{where}: rule kind must be one of {', '.join(sorted(RULES))}")
    unknown = [v for v in rule.get("values", []) if v not in names]
    if unknown or (rule["kind"] == "no-inference" and rule.get("category") not in TERMS):
        raise ConfigError(f"{where}: the rule names unknown values or category")
    tools = tuple(item.get("tools", ()))
    if any(t not in TOOLS for t in tools) or not isinstance(item["messages"], list) or not item["messages"]:
        raise ConfigError(f"{where}: messages must be a list and tools among {', '.join(TOOLS)}")
    return Probe(str(item["id"]), family, item["messages"], rule, tools)


def load_probes(path: Path | None = None, families: list[str] | None = None) -> list[Probe]:
    source = path or BUILTIN
    doc, _ = read_yaml(source)
    if not isinstance(doc, list) or not doc:
        raise ConfigError(f"{source.name}: a list of probes is expected")
    names = set(Bait.fresh(0).values)
    probes = [_probe(item, f"{source.name} probe {i + 1}", names) for i, item in enumerate(doc)]
    if len({p.id for p in probes}) != len(probes):
        raise ConfigError(f"{source.name}: probe ids must be unique")
    if families:
        bad = [f for f in families if f not in FAMILIES]
        if bad:
            raise ConfigError(f"unknown probe famil{'ies' if len(bad) > 1 else 'y'} {', '.join(bad)}")
        probes = [p for p in probes if p.family in families]
    return probes
