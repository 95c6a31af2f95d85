"""The ``veil`` command."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from veil.cli import (
    access,
    anonymize,
    audit_model,
    dp,
    fl,
    governance,
    guard,
    he,
    keys,
    monitor,
    privacy,
    probe,
    records,
    scan,
    serve,
    tables,
)  # fmt: skip
from veil.errors import InputError, OutputError, VaultError, VeilError

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
app.add_typer(governance.consent_app, name="consent")
app.add_typer(governance.dsar_app, name="dsar")
app.command("ropa")(records.ropa)
app.command("dpia")(records.dpia)
app.add_typer(records.breach_app, name="breach")
app.add_typer(records.retention_app, name="retention")
app.command("serve")(serve.serve)
app.add_typer(he.he_app, name="he")
app.add_typer(fl.fl_app, name="fl")
app.add_typer(audit_model.audit_model_app, name="audit-model")
app.add_typer(probe.probe_app, name="probe")
app.command("monitor")(monitor.monitor)
app.add_typer(monitor.alerts_app, name="alerts")

err = Console(stderr=True)


@app.callback()
def _main() -> None:
    """Veil: detect, minimize and anonymize personal data for AI applications."""


def _silence_stdout() -> None:
    """Point standard output at /dev/null so the interpreter's last flush of a full or closed pipe stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _fail(exc: VeilError) -> None:
    with contextlib.suppress(OSError):
        err.print(f"[bold red]error[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    _silence_stdout()
    sys.exit(2)


def _terminated(signum: int, _frame: object) -> None:
    """SIGTERM ends the command like an interrupt: temporaries are removed, nothing half-written is left."""
    raise SystemExit(128 + signum)


def run() -> None:
    """Entry point: every Veil error becomes a one-line message and exit code 2, never a traceback."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = app(standalone_mode=False)
        sys.stdout.flush()
    except VeilError as exc:
        _fail(exc)
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        _silence_stdout()
        sys.exit(141)
    except OSError as exc:  # a full disk or standard output on /dev/full: exit 2 (not 1, "personal data found")
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(OutputError(f"input/output error{where}: {exc.strerror or type(exc).__name__}"))
    except SQLAlchemyError as exc:  # a read-only, locked or vanished database under the vault or a table
        orig = getattr(exc, "orig", None)
        _fail(VaultError(f"the database failed: {str(orig or type(exc).__name__).splitlines()[0]}"))
    except RecursionError:
        _fail(InputError("the input is nested too deeply"))
    except MemoryError:
        _fail(InputError("the input needs more memory than this machine has"))
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
