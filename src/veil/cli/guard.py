"""``veil guard``: run the proxy (uvicorn)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from veil.errors import ConfigError, MissingExtraError


def guard(
    upstream: Annotated[str, typer.Option(help="Base URL of the OpenAI-compatible API, e.g. https://api.openai.com")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML file.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8400,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Env var with the upstream API key (default: forward the caller's Authorization)."),
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) for HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the privacy guard in front of a model API: clients point their base URL at it."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("guard", "uvicorn") from None
    from veil.guard.core import Guard
    from veil.guard.proxy import create_app
    from veil.policy import load_policy

    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    for f in (tls_cert, tls_key):
        if f is not None and not f.is_file():
            raise ConfigError(f"{f}: file not found")
    key = None
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(f"environment variable {api_key_env} is not set")
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    load_policy(policy)  # a broken policy fails here, with its line and key, not in every worker
    tls: dict[str, Any] = {
        "ssl_certfile": str(tls_cert) if tls_cert else None,
        "ssl_keyfile": str(tls_key) if tls_key else None,
    }
    if workers == 1:
        app = create_app(Guard(load_policy(policy)), upstream, key)
        uvicorn.run(app, host=host, port=port, log_level="warning", **tls)
        return
    # Several worker processes: each builds its own guard from the environment (uvicorn needs an import string).
    os.environ.update(VEIL_GUARD_POLICY=str(policy.resolve()), VEIL_GUARD_UPSTREAM=upstream)
    if api_key_env:
        os.environ["VEIL_GUARD_API_KEY_ENV"] = api_key_env
    uvicorn.run(
        "veil.guard.proxy:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning", **tls
    )
