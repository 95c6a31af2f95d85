"""The declarative policy (YAML, pydantic): purposes, entity rules, thresholds."""

from veil.policy.loader import load_policy, load_starter_policy, starter_policy
from veil.policy.model import Detection, Policy, Purpose, Rule

__all__ = ["Detection", "Policy", "Purpose", "Rule", "load_policy", "load_starter_policy", "starter_policy"]
