"""``veil roles``, ``veil users`` and ``veil detokenize`` (the guarded way to read originals)."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import VaultOpt, err, require_principal
from veil.errors import ConfigError
from veil.vault import Vault
from veil.vault.access import AccessControl

out = Console(highlight=False)
roles_app = typer.Typer(help="Roles: permissions, purposes, per-entity visibility.", no_args_is_help=True)
users_app = typer.Typer(help="Principals: API keys and TOTP.", no_args_is_help=True)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@roles_app.command("create")
def roles_create(
    name: Annotated[str, typer.Argument()],
    permissions: Annotated[str, typer.Option(help="Comma-separated: tokenize, detokenize, detokenize:masked, ...")],
    purposes: Annotated[str | None, typer.Option(help="Purposes the role may act for (default: any).")] = None,
    entity: Annotated[list[str] | None, typer.Option(help="ENTITY=full|masked|none (repeatable).")] = None,
    scope: Annotated[
        str | None, typer.Option(help="Pseudonym scope of its principals (guard tenants; default: the policy's).")
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Create a role."""
    rules = {}
    for item in entity or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--entity expects ENTITY=full|masked|none, got '{item}'")
        rules[key.strip().upper()] = value.strip()
    opened = Vault(vault)
    actor = require_principal(opened, "admin")
    AccessControl(opened).create_role(
        name, _split(permissions), purposes=_split(purposes), entities=rules, scope=scope, actor=actor
    )
    err.print(f"role '{name}' created")


@roles_app.command("list")
def roles_list(vault: VaultOpt = None) -> None:
    """Show every role."""
    table = Table("role", "permissions", "purposes", "entities", "scope")
    for r in AccessControl(Vault(vault)).roles():
        table.add_row(
            r.name,
            ", ".join(sorted(r.permissions)),
            ", ".join(sorted(r.purposes)) or "any",
            ", ".join(f"{k}={v}" for k, v in sorted(r.entities.items())) or "all full",
            r.scope or "policy's",
        )
    out.print(table)


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="Role name.")],
    totp: Annotated[
        bool, typer.Option("--totp/--no-totp", help="TOTP second factor (needed for privileged use).")
    ] = True,
    vault: VaultOpt = None,
) -> None:
    """Create a principal; prints its API key and TOTP URI once (store them now)."""
    opened = Vault(vault)
    actor = require_principal(opened, "admin")
    key, uri = AccessControl(opened).create_principal(name, role, totp=totp, actor=actor)
    typer.echo(f"api key: {key}")  # plain echo: a secret shown once must never be wrapped at the terminal width
    if uri:
        typer.echo(f"totp:    {uri}")
    err.print("these are shown once and are not stored in a readable form")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument()], vault: VaultOpt = None) -> None:
    """Disable a principal (its API key stops working)."""
    opened = Vault(vault)
    actor = require_principal(opened, "admin")
    AccessControl(opened).disable(name, actor=actor)
    err.print(f"principal '{name}' disabled")


def detokenize(
    tokens: Annotated[list[str], typer.Argument(help="Tokens to read back.")],
    scope: Annotated[str, typer.Option(help="Pseudonym scope.")] = "default",
    purpose: Annotated[str, typer.Option(help="Declared purpose (checked against the role).")] = "",
    totp: Annotated[str | None, typer.Option(help="Current TOTP code (needed for full detokenize).")] = None,
    vault: VaultOpt = None,
) -> None:
    """Originals of tokens, as the caller's role allows (API key from VEIL_API_KEY); every call is audited."""
    api_key = os.environ.get("VEIL_API_KEY")
    if not api_key:
        raise ConfigError("set VEIL_API_KEY to your API key (veil users create)")
    from veil.detect.plausible import plausible_entities

    ac = AccessControl(Vault(vault), classify=plausible_entities)  # visibility holds whatever type was detected
    session = ac.authenticate(api_key, totp)
    values = ac.detokenize(session, scope, tokens, purpose=purpose)
    sys.stdout.write(json.dumps(values, ensure_ascii=False, indent=2) + "\n")
