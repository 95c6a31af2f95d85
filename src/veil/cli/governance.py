"""``veil consent`` and ``veil dsar``: the consent ledger and data-subject requests."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import VaultOpt, err, require_principal
from veil.errors import ConfigError

out = Console(highlight=False)
consent_app = typer.Typer(help="The consent ledger: grant, withdraw, show.", no_args_is_help=True)
dsar_app = typer.Typer(
    help="Data-subject requests: access, portability, erase, rectify, restrict.", no_args_is_help=True
)

GovPolicyOpt = Annotated[
    Path | None, typer.Option("--policy", "-p", help="Policy YAML with purposes and governance (default: VEIL_POLICY).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SubjectArg = Annotated[str, typer.Argument(help="The subject's e-mail, phone number or id (or sub_... id).")]


def governor(policy: Path | None, vault: str | None, permission: str, purpose: str = "") -> Any:
    """A Governor for the command: policy loaded, vault opened, the acting principal checked."""
    from veil.governance.runner import Governor
    from veil.policy import load_policy
    from veil.vault import Vault

    path = policy or (Path(os.environ["VEIL_POLICY"]) if os.environ.get("VEIL_POLICY") else None)
    if path is None:
        raise ConfigError("governance needs the policy (--policy FILE or VEIL_POLICY)")
    loaded = load_policy(path)
    opened = Vault(vault)
    actor = require_principal(opened, permission, policy=loaded, purpose=purpose)
    return Governor(opened, loaded, base=path.parent, actor=actor)


def emit(doc: Any, as_json: bool, table: Table | None = None) -> None:
    if as_json or table is None:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    else:
        out.print(table)


def _record(subject: str, purpose: str, action: str, policy: Path | None, vault: str | None, **kw: Any) -> None:
    gov = governor(policy, vault, "governance", purpose)
    sid = gov.subjects.register(subject).id
    event = gov.consent.record(sid, purpose, action, actor=gov.actor, **kw)
    err.print(f"{action} recorded for {sid}, purpose '{purpose}' (event {event.id})")


NoticeOpt = Annotated[Path | None, typer.Option("--notice", help="The notice text shown (its SHA-256 is kept).")]


@consent_app.command("grant")
def consent_grant(
    subject: SubjectArg,
    purpose: Annotated[str, typer.Option("--purpose", help="A purpose of the policy.")],
    source: Annotated[str, typer.Option(help="Where consent was given (web form, call, paper).")] = "",
    notice_version: Annotated[str, typer.Option(help="Version of the notice shown.")] = "",
    notice: NoticeOpt = None,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Record a grant of consent for one purpose."""
    text = _notice(notice)
    _record(subject, purpose, "grant", policy, vault, source=source, notice_version=notice_version, notice_text=text)


@consent_app.command("withdraw")
def consent_withdraw(
    subject: SubjectArg,
    purpose: Annotated[str, typer.Option("--purpose", help="A purpose of the policy.")],
    source: Annotated[str, typer.Option(help="Where it was withdrawn.")] = "",
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Record a withdrawal of consent (as easy as giving it, Art. 7(3))."""
    _record(subject, purpose, "withdraw", policy, vault, source=source)


@consent_app.command("lift")
def consent_lift(subject: SubjectArg, policy: GovPolicyOpt = None, vault: VaultOpt = None) -> None:
    """Lift a restriction of processing (Art. 18(3)); the subject must be told before it is lifted."""
    _record(subject, "*", "lift", policy, vault)


def _notice(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"cannot read the notice file {path} (UTF-8 text)") from None


@consent_app.command("show")
def consent_show(
    subject: SubjectArg, policy: GovPolicyOpt = None, vault: VaultOpt = None, as_json: JsonOpt = False
) -> None:
    """The subject's state per purpose and the full history."""
    gov = governor(policy, vault, "governance")
    sid = gov.subjects.resolve(subject).id
    history = [e.to_dict() for e in gov.consent.history(sid)]
    state = gov.consent.state(sid)
    purposes = {p: ("allowed" if gov.consent.has(sid, p) else "not allowed") for p in gov.policy.purposes}
    table = Table("purpose", "basis", "latest", "processing")
    for p, verdict in purposes.items():
        table.add_row(p, gov.policy.purposes[p].legal_basis or "—", state.get(p, "—"), verdict)
    if state.get("*") == "restrict":
        table.caption = "processing restricted (Art. 18)"
    emit({"subject": sid, "purposes": purposes, "state": state, "history": history}, as_json, table)


# -- requests ---------------------------------------------------------------------------------------------


def _request_row(table: Table, r: Any) -> None:
    due = r.due[:10] + (" OVERDUE" if r.overdue else "")
    table.add_row(r.id, r.type, r.status, r.received[:10], due, r.subject[:16] + "…")


@dsar_app.command("open")
def dsar_open(
    subject: SubjectArg,
    kind: Annotated[str, typer.Option("--type", help="access | portability | erase | rectify | restrict")],
    field: Annotated[str | None, typer.Option("--field", help="rectify: the column or entity (EMAIL_ADDRESS).")] = None,
    value: Annotated[str | None, typer.Option("--value", help="rectify: the new value.")] = None,
    channel: Annotated[str, typer.Option(help="How the request came in (e-mail, form, letter).")] = "",
    received: Annotated[str | None, typer.Option(help="When it was received (ISO time; default: now).")] = None,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a request; its deadline follows the policy's jurisdiction."""
    gov = governor(policy, vault, "governance")
    params = {"target": field, "value": value} if kind == "rectify" else None
    if kind != "rectify" and (field or value):
        raise ConfigError("--field and --value are for --type rectify")
    when = _when(received)
    req = gov.requests.open(
        gov.subjects.register(subject).id,
        kind,
        jurisdiction=gov.policy.governance.jurisdiction,
        actor=gov.actor,
        params=params,
        received=when,
        channel=channel,
    )
    if as_json:
        emit(req.to_dict(), True)
    else:
        err.print(f"request {req.id} ({kind}) received, due {req.due}; next: veil dsar verify {req.id} --method ...")
        typer.echo(req.id)


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--received {text!r} is not an ISO date-time") from None
    if when.tzinfo is None:
        raise ConfigError("--received needs a time zone (e.g. 2026-12-01T09:30+00:00)")
    return when


@dsar_app.command("verify")
def dsar_verify(
    request_id: Annotated[str, typer.Argument()],
    method: Annotated[str, typer.Option(help="How the identity was checked (e-mail code, ID document).")],
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Record that the requester proved to be the subject (Art. 12(6))."""
    gov = governor(policy, vault, "governance")
    err.print(f"request {gov.verify(request_id, method).id} verified")


@dsar_app.command("refuse")
def dsar_refuse(
    request_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (told to the subject, Art. 12(4)).")],
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Refuse a request, with its reason."""
    gov = governor(policy, vault, "governance")
    err.print(f"request {gov.refuse(request_id, reason).id} refused")


@dsar_app.command("run")
def dsar_run(
    request_id: Annotated[str, typer.Argument()],
    bundle: Annotated[
        Path | None, typer.Option("--out", help="Access bundle path (default: $VEIL_HOME/requests).")
    ] = None,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Carry a verified request out across every source (resumes a stopped run)."""
    from veil.governance.requests import Requests
    from veil.vault import Vault

    kind = Requests(Vault(vault)).get(request_id).type
    permission = "export" if kind in ("access", "portability") else "erase"
    gov = governor(policy, vault, permission)
    req = gov.run(request_id, out=bundle)
    if as_json:
        emit(req.to_dict(), True)
        return
    err.print(f"request {req.id} ({req.type}) done")
    typer.echo(json.dumps(req.result, indent=2, default=str))


@dsar_app.command("list")
def dsar_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their deadline.")] = False,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    policy: GovPolicyOpt = None,
    vault: VaultOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The request queue, oldest first."""
    gov = governor(policy, vault, "governance")
    found = gov.requests.find(status=status, overdue=overdue)
    table = Table("id", "type", "status", "received", "due", "subject")
    for r in found:
        _request_row(table, r)
    emit([r.to_dict() for r in found], as_json, table)


@dsar_app.command("show")
def dsar_show(
    request_id: Annotated[str, typer.Argument()], policy: GovPolicyOpt = None, vault: VaultOpt = None
) -> None:
    """One request: status, deadline, timeline, progress and evidence (JSON)."""
    gov = governor(policy, vault, "governance")
    emit(gov.requests.get(request_id).to_dict(), True)
