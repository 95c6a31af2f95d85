"""The privacy guard: a supervising proxy in front of OpenAI-compatible models, and an in-process wrapper."""

from veil.guard.client import GuardedClient, wrap
from veil.guard.core import Guard, PolicyViolation

__all__ = ["Guard", "GuardedClient", "PolicyViolation", "wrap"]
