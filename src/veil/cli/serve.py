"""``veil serve``: the HTTP API, the operator dashboard and the privacy center in one process (uvicorn)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from veil.cli.guard import check_host, check_upstream
from veil.cli.options import VaultOpt, err
from veil.errors import ConfigError, MissingExtraError


def build(policy: Path, vault: str | None = None, **settings: Any) -> Any:
    """The service app for a policy file (also what tests and benchmarks serve)."""
    from veil.policy import load_policy
    from veil.service.app import create_app
    from veil.service.state import Settings, State
    from veil.vault import Vault

    loaded = load_policy(policy)
    return create_app(State(loaded, Vault(vault), Settings(policy_path=policy.resolve(), vault_url=vault, **settings)))


def serve(
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML (purposes, governance, service).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8500,
    upstream: Annotated[str | None, typer.Option(help="Model API for the guard at /llm/v1 (optional).")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Env var with the upstream model's API key.")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) for HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Uploads and job outputs (default: VEIL_HOME/service).")] = None,
    he_model: Annotated[Path | None, typer.Option(help="Model for /v1/he/score (veil he train).")] = None,
    vault: VaultOpt = None,
) -> None:
    """Serve /v1 (OpenAPI at /docs), the dashboard at /ui and the privacy center at /center. Sessions live in
    this one process."""
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise MissingExtraError("service", "uvicorn") from None
    check_host(host)
    if upstream:
        check_upstream(upstream)
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and key is None:
        raise ConfigError(f"environment variable {api_key_env} is not set")
    app = build(policy, vault, tls=bool(tls_cert), upstream=upstream, upstream_key=key, work_dir=work_dir,
                he_model=he_model)  # fmt: skip
    scheme = "https" if tls_cert else "http"
    err.print(f"Veil on {scheme}://{host}:{port}  (API /v1, docs /docs, dashboard /ui, privacy center /center)")
    uvicorn.run(app, host=host, port=port, log_level="warning", ssl_certfile=str(tls_cert) if tls_cert else None,
                ssl_keyfile=str(tls_key) if tls_key else None)  # fmt: skip
