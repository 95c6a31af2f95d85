"""``veil monitor`` (watch the audit log, raise alerts) and ``veil alerts`` (list, acknowledge)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import VaultOpt, err, require_principal
from veil.errors import ConfigError

alerts_app = typer.Typer(help="Alerts the monitor raised: list them, acknowledge them.", no_args_is_help=True)
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="Policy with a monitor: section (default: its "
                                                "defaults).")]  # fmt: skip


def _policy(path: Path | None) -> Any:
    from veil.policy import Policy
    from veil.policy.loader import load_policy

    return load_policy(path) if path else Policy()


def _sinks(policy: Any, vault: Any, webhook: str | None) -> list[Any]:
    from veil.monitor.sinks import AuditSink, JsonLines, Webhook

    sinks: list[Any] = [JsonLines(sys.stdout), AuditSink(vault.audit)]
    url = webhook or (str(policy.monitor.webhook) if policy.monitor.webhook else None)
    if url:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("--webhook must be an http:// or https:// URL")
        name = policy.monitor.webhook_secret_env
        secret = os.environ.get(name) if name else None
        if name and not secret:
            raise ConfigError(f"monitor.webhook_secret_env names {name}, which is not set")
        sinks.append(Webhook(url, secret.encode() if secret else None))
    return sinks


def monitor(
    policy: PolicyOpt = None,
    vault: VaultOpt = None,
    follow: Annotated[bool, typer.Option("--follow", help="Keep watching for new records.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between reads with --follow.")] = 15.0,
    webhook: Annotated[str | None, typer.Option(help="POST each alert here (overrides monitor.webhook).")] = None,
    metrics_port: Annotated[int | None, typer.Option("--metrics-port", help="Serve Prometheus gauges on "
                                                     "127.0.0.1:PORT/metrics (with --follow).")] = None,
    verify_every: Annotated[float, typer.Option("--verify-every", help="Seconds between full checks of the audit "
                                                "chain with --follow (each new record is checked as it is read).")
                            ] = 300.0,
) -> None:
    """Replay the audit log through the detectors; each new alert goes to standard output (JSON lines), the audit
    log, the alert store and the webhook. Exit 1 when a one-shot run raised an alert."""
    from veil.monitor.engine import Monitor, settings_of
    from veil.monitor.store import AlertStore
    from veil.vault import Vault

    if interval <= 0 or verify_every < 0:
        raise ConfigError("--interval must be positive and --verify-every 0 or more")
    rules = _policy(policy)
    opened = Vault(vault)
    require_principal(opened, "audit:read", policy=rules)
    sinks = _sinks(rules, opened, webhook)
    mon = Monitor(opened.audit, settings_of(rules), store=AlertStore(opened.engine), sinks=sinks,
                  verify_every=verify_every)  # fmt: skip
    if not follow:
        raised = mon.run_once()
        err.print(f"{mon.events:,} record(s) read, {len(raised)} new alert(s)", highlight=False)
        if raised:
            raise typer.Exit(1)
        return
    tick = None
    if metrics_port is not None:
        from veil.monitor.metrics import Gauges

        gauges = Gauges()
        gauges.serve(metrics_port)
        tick = gauges.update
    err.print(f"watching the audit log every {interval:g} s (Ctrl-C to stop)", highlight=False)
    mon.follow(interval, tick=tick)


@alerts_app.command("list")
def list_cmd(
    status: Annotated[str, typer.Option(help="open, acked or all.")] = "open",
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Newest first, at most this many.")] = 200,
    vault: VaultOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """The alerts, newest first, each with its feature, baseline and observed value."""
    from veil.monitor.store import AlertStore
    from veil.vault import Vault

    opened = Vault(vault)
    require_principal(opened, "audit:read", policy=_policy(policy) if policy else None)
    rows = AlertStore(opened.engine).list(None if status == "all" else status, kind, max(1, min(limit, 10_000)))
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    table = Table("id", "at", "kind", "key", "why", "baseline", "observed", "status")
    for r in rows:
        table.add_row(str(r["id"]), r["at"][:16], r["kind"], r["key"], r["why"], r["baseline"], r["observed"],
                      r["status"])  # fmt: skip
    Console().print(table)


@alerts_app.command("ack")
def ack_cmd(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (veil alerts list).")],
    note: Annotated[str, typer.Option(help="What was found or done.")] = "",
    vault: VaultOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """Acknowledge an alert (audited)."""
    from veil.monitor.store import acknowledge
    from veil.vault import Vault

    opened = Vault(vault)
    acknowledge(opened, alert_id, require_principal(opened, "audit:read", policy=_policy(policy) if policy else None),
                note)  # fmt: skip
    err.print(f"alert {alert_id} acknowledged")
