"""Loading and checking policy files; errors name the line and the key."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from veil.errors import PolicyError
from veil.policy.model import Policy
from veil.yamlfile import read_yaml, validate


def load_policy(path: str | Path) -> Policy:
    data, lines = read_yaml(path, PolicyError)
    policy = validate(Policy, data, lines, str(path), PolicyError)
    if policy.detection.recognizers:
        rec = Path(policy.detection.recognizers)
        if not rec.is_absolute():
            rec = Path(path).parent / rec
        if not rec.is_file():
            line = lines.get(("detection", "recognizers"))
            raise PolicyError(f"{path}: line {line}, key 'detection.recognizers': file not found: {rec}")
        policy.detection.recognizers = str(rec)
    return policy


def load_starter_policy() -> Policy:
    """The built-in starter policy (what ``veil policy init`` writes), for commands run without ``--policy``."""
    path = Path(str(files("veil.policy").joinpath("starter.yaml")))
    return load_policy(path)


def starter_policy() -> str:
    """The commented starter policy written by ``veil policy init``."""
    return files("veil.policy").joinpath("starter.yaml").read_text(encoding="utf-8")
