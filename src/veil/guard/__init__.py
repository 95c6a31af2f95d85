"""The privacy guard: a supervising proxy in front of OpenAI-compatible models, and an in-process wrapper."""

from veil.guard.client import GuardedClient, wrap
from veil.guard.core import Call, Guard, PolicyViolation, UpstreamError
from veil.guard.tenants import Tenant, Tenants

__all__ = ["Call", "Guard", "GuardedClient", "PolicyViolation", "Tenant", "Tenants", "UpstreamError", "wrap"]
