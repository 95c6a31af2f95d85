"""``veil ropa``, ``veil dpia``, ``veil breach`` and ``veil retention``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from veil.cli.governance import GovPolicyOpt, JsonOpt, emit, governor
from veil.cli.options import OverwriteOpt, VaultOpt, err
from veil.errors import ConfigError
from veil.textio_out import atomic_output

breach_app = typer.Typer(help="Personal data breaches: register, 72-hour clock, notices.", no_args_is_help=True)
retention_app = typer.Typer(
    help="Retention: delete or anonymize rows past their purpose's period.", no_args_is_help=True
)
FORMATS = ("markdown", "html", "json")
FormatOpt = Annotated[str, typer.Option("--format", help="markdown | html | json")]
OutOpt = Annotated[str | None, typer.Option("--out", "-o", help="Write to this file (atomically).")]


def _write(doc: dict[str, Any], document: Any, fmt: str, target: str | None, overwrite: bool) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    text = {
        "json": lambda: json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
        "markdown": document.markdown,
        "html": document.html,
    }[fmt]()
    with atomic_output(target, overwrite=overwrite) as fh:
        fh.write(text)
    if target:
        err.print(f"wrote {target}")


def ropa(
    fmt: FormatOpt = "markdown",
    target: OutOpt = None,
    overwrite: OverwriteOpt = False,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """The record of processing activities (GDPR Art. 30) from the policy and the data map."""
    from veil.governance.records import ropa as build
    from veil.governance.records import ropa_document

    gov = governor(policy, vault, "governance")
    doc = build(gov)
    gov.vault.audit.append(gov.actor, "ropa", activities=len(doc["activities"]), gaps=doc["undeclared_categories"])
    _write(doc, ropa_document(doc), fmt, target, overwrite)


def dpia(
    purpose: Annotated[str, typer.Argument(help="A purpose of the policy.")],
    fmt: FormatOpt = "markdown",
    target: OutOpt = None,
    overwrite: OverwriteOpt = False,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """A data protection impact assessment draft (GDPR Art. 35) for one purpose."""
    from veil.governance.dpia import dpia as build
    from veil.governance.dpia import dpia_document

    gov = governor(policy, vault, "governance")
    doc = build(gov, purpose)
    gov.vault.audit.append(gov.actor, "dpia", purpose=purpose, residual=doc["residual_risk"])
    _write(doc, dpia_document(doc), fmt, target, overwrite)


def _breaches(policy: Path | None, vault: str | None) -> Any:
    from veil.governance.breach import Breaches

    return Breaches(governor(policy, vault, "governance"))


@breach_app.command("open")
def breach_open(
    title: Annotated[str, typer.Argument()],
    source: Annotated[list[str], typer.Option("--source", help="Affected source or source.table (repeatable).")],
    detected: Annotated[
        str | None, typer.Option(help="When it was detected (ISO time with zone; default now).")
    ] = None,
    description: Annotated[str, typer.Option(help="What happened.")] = "",
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a breach; starts the 72-hour clock to notify the authority (Art. 33)."""
    when = None
    if detected:
        try:
            when = datetime.fromisoformat(detected)
        except ValueError:
            raise ConfigError(f"--detected {detected!r} is not an ISO date-time") from None
    reg = _breaches(policy, vault)
    b = reg.open(title, source, detected=when, description=description, actor=reg.gov.actor)
    if as_json:
        emit(b.to_dict(), True)
        return
    f = b.facts
    err.print(
        f"breach {b.id}: about {f['subjects_estimate']:,} subjects; notify the authority by {b.authority_due}; "
        f"subjects must be told: {'yes' if f['notify_subjects'] else 'no'}"
    )
    typer.echo(b.id)


@breach_app.command("update")
def breach_update(
    breach_id: Annotated[str, typer.Argument()],
    note: Annotated[str, typer.Option(help="What was done or learned.")],
    authority_notified: Annotated[bool, typer.Option("--authority-notified", help="The authority was told.")] = False,
    subjects_notified: Annotated[bool, typer.Option("--subjects-notified", help="The subjects were told.")] = False,
    no_subject_notice: Annotated[str, typer.Option(help="Why subjects need not be told (Art. 34(3)).")] = "",
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Add to a breach's timeline."""
    reg = _breaches(policy, vault)
    b = reg.update(
        breach_id,
        note,
        actor=reg.gov.actor,
        authority_notified=authority_notified,
        subjects_notified=subjects_notified,
        no_subject_notice=no_subject_notice,
    )
    err.print(f"breach {b.id} updated")


@breach_app.command("close")
def breach_close(
    breach_id: Annotated[str, typer.Argument()],
    note: Annotated[str, typer.Option(help="How it ended.")],
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Close a breach."""
    reg = _breaches(policy, vault)
    err.print(f"breach {reg.update(breach_id, note, actor=reg.gov.actor, close=True).id} closed")


@breach_app.command("list")
def breach_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Open, authority not told, 72 hours passed.")] = False,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The breach register."""
    found = _breaches(policy, vault).find(overdue=overdue)
    table = Table("id", "title", "status", "detected", "authority due", "subjects", "notify subjects")
    for b in found:
        due = b.authority_due[:16] + (" OVERDUE" if b.overdue else "")
        table.add_row(
            b.id,
            b.title[:40],
            b.status,
            b.detected[:16],
            due,
            f"{b.facts['subjects_estimate']:,}",
            "yes" if b.facts.get("notify_subjects") else "no",
        )
    emit([b.to_dict() for b in found], as_json, table)


@breach_app.command("notice")
def breach_notice(
    breach_id: Annotated[str, typer.Argument()],
    to: Annotated[str, typer.Option("--to", help="authority | subjects")] = "authority",
    fmt: FormatOpt = "markdown",
    target: OutOpt = None,
    overwrite: OverwriteOpt = False,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Draft notification to the authority (Art. 33(3)) or to the subjects (Art. 34(2))."""
    reg = _breaches(policy, vault)
    notices = reg.notices(breach_id)
    if to not in ("authority", "subjects"):
        raise ConfigError("--to must be authority or subjects")
    if to not in notices:
        raise ConfigError(f"breach {breach_id}: subjects need not be told (no high-risk category, or recorded why)")
    _write(reg.get(breach_id).to_dict(), notices[to], fmt, target, overwrite)


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")] = False,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete or anonymize rows past their purpose's retention period (governance.retention)."""
    from veil.governance.retention import run_retention

    gov = governor(policy, vault, "governance" if dry_run else "erase")
    results = run_retention(gov, dry_run=dry_run)
    table = Table("source", "table", "purpose", "action", "older than", "rows", "changed")
    for r in results:
        changed = ", ".join(f"{t}: {c}" for t, c in r.get("tables", {}).items()) or ("dry run" if dry_run else "—")
        table.add_row(r["source"], r["table"], r["purpose"], r["action"], r["cutoff"], f"{r['expired']:,}", changed)
    emit(results, as_json, table)
