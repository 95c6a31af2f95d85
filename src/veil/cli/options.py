"""Options shared by several commands and the detector they configure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from veil.detect import Detector, models
from veil.detect.custom import build_detector
from veil.detect.engine import DEFAULT_THRESHOLD
from veil.errors import ConfigError

err = Console(stderr=True, highlight=False)
DelimiterOpt = Annotated[
    str | None, typer.Option("--delimiter", "--sep", help="CSV delimiter (default: sniffed from the header).")
]
QuoteOpt = Annotated[str | None, typer.Option("--quote", help='CSV quote character (default: ").')]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output file.")]
VaultOpt = Annotated[str | None, typer.Option("--vault", help="Vault database URL (default: VEIL_DB, .veil/veil.db).")]


def parse_entities(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [v.strip().upper() for v in value.split(",") if v.strip()]
    if not names:
        raise ConfigError("--entities is empty")
    return names


def make_detector(
    *,
    entities: str | None = None,
    threshold: float | None = None,
    recognizers: Path | None = None,
    ner: bool | None = None,
    profile: str = "general",
    model: str = models.DEFAULT,
) -> Detector:
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold {threshold} is not within 0..1")
    return build_detector(
        recognizers,
        ner="auto" if ner is None else ner,
        entities=parse_entities(entities),
        default_threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        profile=profile,
        model=model,
    )


def enforced(policy: object | None = None) -> bool:
    """Whether ``access.enforce`` is on: in the policy given to the command, else in ``VEIL_POLICY``'s."""
    import os

    from veil.policy import Policy, load_policy

    if isinstance(policy, Policy):
        return policy.access.enforce
    named = os.environ.get("VEIL_POLICY")
    return load_policy(named).access.enforce if named else False


def require_principal(vault: object, permission: str, *, policy: object | None = None, purpose: str = "") -> str:
    """The acting principal's name when ``access.enforce`` is on (refused and audited otherwise); ``local`` when
    it is off. The first principal of an empty vault may be created without one (bootstrap, audited)."""
    import os

    from veil.errors import AccessDenied
    from veil.vault import Vault
    from veil.vault.access import AccessControl

    if not enforced(policy):
        return "local"
    assert isinstance(vault, Vault)
    ac = AccessControl(vault)
    if permission == "admin" and not ac.has_principals():
        vault.audit.append("bootstrap", "admin", result="ok", reason="first principal of an empty vault")
        return "bootstrap"
    key = os.environ.get("VEIL_API_KEY")
    if not key:
        vault.audit.append("unknown", permission, result="denied", reason="no API key (access.enforce)")
        raise AccessDenied(f"access.enforce is on: '{permission}' needs VEIL_API_KEY (and VEIL_TOTP)")
    session = ac.authenticate(key, os.environ.get("VEIL_TOTP"))
    ac.authorize(session, permission, purpose=purpose)
    return session.principal
