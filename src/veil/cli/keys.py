"""``veil keys`` and ``veil audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select

from veil.cli.options import OverwriteOpt, VaultOpt, err, require_principal
from veil.storage.schema import keys as keys_table
from veil.textio_out import atomic_output
from veil.vault import Vault
from veil.vault.keys import read_key_file, write_key_file

out = Console(highlight=False)

keys_app = typer.Typer(help="Master key: create, rotate, inspect.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@keys_app.command("init")
def keys_init(path: Annotated[Path, typer.Argument(help="Where to write the new key file (mode 0600).")]) -> None:
    """Create a new random master key file (never overwrites)."""
    key = write_key_file(path)
    err.print(
        f"wrote {path} (key id {key.kek_id}). Use it with VEIL_KEY_FILE={path}; keep it out of the database "
        "host's backups or in a secrets manager."
    )


@keys_app.command("rotate")
def keys_rotate(
    new_key_file: Annotated[Path, typer.Option("--new-key-file", help="The new master key (veil keys init).")],
    vault: VaultOpt = None,
) -> None:
    """Re-wrap every data key under a new master key; no data is re-encrypted, every token stays readable."""
    v = Vault(vault)
    actor = require_principal(v, "keys:rotate")
    new = read_key_file(new_key_file)
    old = v.master.kek_id
    n = v.rotate(new, actor=actor)
    err.print(
        f"re-wrapped {n} data key(s): {old} -> {new.kek_id}. Now point VEIL_KEY_FILE / VEIL_MASTER_KEY at the new "
        "key; until every process has restarted, give them the old one in VEIL_MASTER_KEY_PREVIOUS."
    )


@keys_app.command("status")
def keys_status(vault: VaultOpt = None) -> None:
    """Data keys per master key, scopes and shredded subjects."""
    v = Vault(vault)
    with v.engine.connect() as conn:
        rows = conn.execute(
            select(
                keys_table.c.kek_id,
                func.count(),
                func.count(func.distinct(keys_table.c.scope)),
                func.count(keys_table.c.shredded),
            ).group_by(keys_table.c.kek_id)
        ).all()
    out.print(f"current master key: {v.master.kek_id} ({v.master.source})")
    for kek, n, scopes, shredded in rows:
        out.print(f"  wrapped by {kek}: {n} data key(s) in {scopes} scope(s), {shredded} shredded")


@audit_app.command("verify")
def audit_verify(vault: VaultOpt = None) -> None:
    """Check the whole chain and its head against the newest signed checkpoint kept outside the database; exit
    code 1 and the first bad record if anything was changed, removed or moved."""
    opened = Vault(vault)
    require_principal(opened, "audit:read")
    log = opened.audit
    result = log.verify()
    if result.ok:
        point = result.anchored
        anchored = (f"; head anchored by the checkpoint of {point.at} (record {point.last_id}, {log.anchor.path})"
                    if point is not None and log.anchor is not None
                    else "; no checkpoint yet: deletions at the end cannot be proven")  # fmt: skip
        out.print(f"audit log intact: {result.records} record(s){anchored}")
        return
    where = f" at record {result.first_bad}" if result.first_bad is not None else ""
    err.print(f"[bold red]audit log broken[/]{where}: {result.problem}")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    output: Annotated[
        str | None, typer.Option("--out", "-o", help="File (written atomically); default stdout.")
    ] = None,
    overwrite: OverwriteOpt = False,
    vault: VaultOpt = None,
) -> None:
    """Every record as JSON Lines, with its chain digests."""
    opened = Vault(vault)
    actor = require_principal(opened, "audit:read")
    with atomic_output(output, overwrite=overwrite) as fh:
        for line in opened.audit.export():
            fh.write(line + "\n")
    opened.audit.append(actor, "audit.export")  # an export is itself on the record (the monitor watches exports)
