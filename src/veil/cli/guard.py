"""``veil guard``: run the proxy (uvicorn)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from veil.cli.options import VaultOpt
from veil.errors import ConfigError, MissingExtraError


def check_upstream(url: str) -> str:
    """An http(s) base URL with a host, or a clear error (not a proxy that starts and fails every call)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError("--upstream is not a valid URL (e.g. https://api.openai.com)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("--upstream must be an http:// or https:// URL with a host (e.g. https://api.openai.com)")
    if port == 0:
        raise ConfigError("--upstream has port 0")
    return url


def check_host(host: str) -> str:
    if host == "localhost":
        return host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError("--host must be an IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::1)") from None
    return host


def guard(
    upstream: Annotated[str, typer.Option(help="Base URL of the OpenAI-compatible API, e.g. https://api.openai.com")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML file.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8400,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Env var with the upstream API key (open mode without it: forward the caller's key)."),
    ] = None,
    open_mode: Annotated[
        bool,
        typer.Option("--open", help="No tenants: anyone who reaches the port may call (a local single-user proxy)."),
    ] = False,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) for HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    vault: VaultOpt = None,
) -> None:
    """Run the privacy guard in front of a model API: clients point their base URL at it and authenticate with
    their Veil API key (roles with the 'guard' permission), unless --open."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("guard", "uvicorn") from None
    from veil.policy import load_policy

    check_upstream(upstream)
    check_host(host)
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    for f in (tls_cert, tls_key):
        if f is not None and not f.is_file():
            raise ConfigError(f"{f}: file not found")
    if api_key_env and not os.environ.get(api_key_env):
        raise ConfigError(f"environment variable {api_key_env} is not set")
    load_policy(policy)  # a broken policy fails here, with its line and key, not in every worker
    os.environ.update(VEIL_GUARD_POLICY=str(policy.resolve()), VEIL_GUARD_UPSTREAM=upstream)
    os.environ["VEIL_GUARD_OPEN"] = "1" if open_mode else "0"
    if api_key_env:
        os.environ["VEIL_GUARD_API_KEY_ENV"] = api_key_env
    if vault:
        os.environ["VEIL_DB"] = vault  # the workers open the same vault
    tls: dict[str, Any] = {
        "ssl_certfile": str(tls_cert) if tls_cert else None,
        "ssl_keyfile": str(tls_key) if tls_key else None,
    }
    if workers == 1:
        uvicorn.run(app_from_env(), host=host, port=port, log_level="warning", **tls)
        return
    # Several worker processes: each builds its own guard from the environment (uvicorn needs an import string).
    uvicorn.run(
        "veil.cli.guard:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning", **tls
    )


def app_from_env() -> Any:
    """Factory for ``uvicorn --factory`` (one per worker process): VEIL_GUARD_POLICY, VEIL_GUARD_UPSTREAM,
    VEIL_GUARD_OPEN (1: no tenants) and optionally VEIL_GUARD_API_KEY_ENV (the variable holding the upstream key).
    Calls tagged with ``x-veil-subject`` are checked against governance's consent ledger."""
    from veil.governance.enforce import consent_check
    from veil.guard.core import Guard
    from veil.guard.proxy import create_app
    from veil.guard.tenants import Tenants
    from veil.policy import load_policy
    from veil.vault.access import AccessControl

    key_env = os.environ.get("VEIL_GUARD_API_KEY_ENV")
    policy = load_policy(os.environ["VEIL_GUARD_POLICY"])
    guard = Guard(policy)
    guard.consent = consent_check(guard.anonymizer.vault, policy)
    tenants = None if os.environ.get("VEIL_GUARD_OPEN") == "1" else Tenants(AccessControl(guard.anonymizer.vault))
    upstream_key = os.environ.get(key_env) if key_env else None
    return create_app(guard, os.environ["VEIL_GUARD_UPSTREAM"], upstream_key, tenants=tenants)
