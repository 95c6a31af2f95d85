"""What one service process holds: the policy, the vault, the anonymizer, principals and sessions, jobs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veil.anonymizer import Anonymizer
from veil.guard.tenants import Tenants
from veil.policy import Policy
from veil.service.security import RateLimiter, Sessions
from veil.vault import Vault
from veil.vault.access import AccessControl

if TYPE_CHECKING:
    from veil.governance.runner import Governor
    from veil.service.jobs import Jobs


@dataclass
class Settings:
    policy_path: Path | None = None
    vault_url: str | None = None
    tls: bool = False
    upstream: str | None = None  # the guard's model API, mounted at /llm when set
    upstream_key: str | None = None
    work_dir: Path | None = None  # uploads and job outputs (default: $VEIL_HOME/service)
    he_model: Path | None = None  # the encrypted-inference model served at /v1/he/score


@dataclass
class State:
    policy: Policy
    vault: Vault
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        self.access = AccessControl(self.vault)
        self.principals = Tenants(self.access, ttl=10.0)  # argon2 once per key per 10 s; disabled keys noticed
        self.sessions = Sessions(self.policy.service.session_minutes)
        self.limiter = RateLimiter(self.policy.service.rate_per_minute)
        self.anonymizer = Anonymizer(self.policy, vault=self.vault)
        self._lock = threading.Lock()

    @property
    def base(self) -> Path | None:
        return self.settings.policy_path.parent if self.settings.policy_path else None

    def governor(self, actor: str) -> Governor:
        from veil.governance.runner import Governor

        return Governor(self.vault, self.policy, base=self.base, actor=actor)

    @cached_property
    def jobs(self) -> Jobs:
        from veil.service.jobs import Jobs

        return Jobs(self.work_dir / "jobs")

    @property
    def work_dir(self) -> Path:
        from veil.storage.engine import veil_home

        path = self.settings.work_dir or veil_home() / "service"
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def detector_for(self, profile: str | None) -> Any:
        if profile is None or profile == self.policy.detection.profile:
            return self.anonymizer.detector
        from veil.anonymizer import detector_for

        copy = self.policy.model_copy(deep=True)
        copy.detection.profile = profile  # type: ignore[assignment]
        return detector_for(copy)
