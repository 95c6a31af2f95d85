"""The ``veil`` command."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from veil.cli import access, anonymize, dp, guard, keys, privacy, scan, tables
from veil.errors import VeilError

app = typer.Typer(
    name="veil",
    help="Veil: detect, minimize and anonymize personal data for AI applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("scan")(scan.scan)
app.command("anonymize")(anonymize.anonymize)
app.command("restore")(anonymize.restore)
app.add_typer(anonymize.policy_app, name="policy")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(keys.audit_app, name="audit")
app.add_typer(access.roles_app, name="roles")
app.add_typer(access.users_app, name="users")
app.command("detokenize")(access.detokenize)
app.command("guard")(guard.guard)
app.command("scan-table")(tables.scan_table_cmd)
app.command("anonymize-table")(tables.anonymize_table_cmd)
app.command("scan-db")(tables.scan_db_cmd)
app.command("risk")(privacy.risk_cmd)
app.command("kanon")(privacy.kanon_cmd)
app.add_typer(dp.dp_app, name="dp")

err = Console(stderr=True)


@app.callback()
def _main() -> None:
    """Veil: detect, minimize and anonymize personal data for AI applications."""


def run() -> None:
    """Entry point: every Veil error becomes a one-line message and exit code 2, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except VeilError as exc:
        err.print(f"[bold red]error[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # usage errors from typer's click: they know how to show themselves
        show = getattr(exc, "show", None)
        if show is None or not hasattr(exc, "exit_code"):
            raise
        show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
