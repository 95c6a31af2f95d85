"""``veil probe``: the privacy probe suite against OpenAI-compatible models and agents (exit 1: a probe failed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import OverwriteOpt, err
from veil.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from veil.probe.runner import Target
from veil.textio_out import atomic_output

probe_app = typer.Typer(help="Privacy probes for models and agents: leaks, injection, inference, re-identification.",
                        no_args_is_help=True)  # fmt: skip


def _targets(given: list[str], model: str, key_env: str | None) -> list[Target]:
    from veil.probe.runner import Target

    if not given:
        raise ConfigError("give at least one --target NAME=URL (the URL up to /v1)")
    out: list[Target] = []
    for item in given:
        name, sep, url = item.partition("=")
        if not sep or not name.strip():
            name, url = f"target{len(out) + 1}", item
        out.append(Target(name.strip(), url.strip(), model, key_env))
    if len({t.name for t in out}) != len(out):
        raise ConfigError("target names must be different")
    return out


@probe_app.command("list")
def list_cmd(probes: Annotated[Path | None, typer.Option("--probes", help="A probe file instead of Veil's.")] = None,
             ) -> None:  # fmt: skip
    """The probes, their families and pass rules."""
    from veil.probe.suite import load_probes

    table = Table("probe", "family", "rule")
    for p in load_probes(probes):
        table.add_row(p.id, p.family, " ".join([p.rule["kind"], ", ".join(p.rule.get("values", []))]).strip())
    Console().print(table)


@probe_app.command("run")
def run_cmd(
    target: Annotated[list[str], typer.Option("--target", help="NAME=URL of an OpenAI-compatible API up to /v1 "
                                              "(repeat to compare, e.g. direct=... guarded=...).")],
    model: Annotated[str, typer.Option(help="The model name sent in each request.")] = "default",
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Environment variable holding the "
                                                    "API key (sent as a bearer token).")] = None,
    families: Annotated[str | None, typer.Option(help="Only these families (comma-separated).")] = None,
    probes: Annotated[Path | None, typer.Option("--probes", help="A probe file instead of Veil's.")] = None,
    repeat: Annotated[int, typer.Option(help="Run each probe this many times (fresh bait each time).")] = 1,
    seed: Annotated[int | None, typer.Option(help="Make the planted values repeatable.")] = None,
    workers: Annotated[int, typer.Option(help="Concurrent requests.")] = 4,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 120.0,
    json_out: Annotated[str | None, typer.Option("--json", help="Write every result as JSON here.")] = None,
    html_out: Annotated[str | None, typer.Option("--html", help="Write an HTML report here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run the suite; a table per family and target. Exit 1 if a probe failed, 2 if one could not be judged."""
    from veil.cli.options import make_detector
    from veil.probe.report import summary, to_html, to_json
    from veil.probe.runner import run
    from veil.probe.suite import load_probes

    try:
        import httpx  # noqa: F401 - the probes' HTTP client (veil[guard])
    except ImportError:
        raise MissingExtraError("guard", "httpx") from None
    if not 1 <= repeat <= 100 or not 1 <= workers <= 64 or timeout <= 0:
        raise ConfigError("--repeat must be 1..100, --workers 1..64 and --timeout positive")
    chosen = load_probes(probes, [f.strip() for f in families.split(",")] if families else None)
    targets = _targets(target, model, api_key_env)
    detector = make_detector()
    results = run(targets, chosen, detector, repeat=repeat, workers=workers, timeout=timeout, seed=seed,
                  progress=lambda r: err.print(f"{r.target} {r.probe}: {r.status}", highlight=False))  # fmt: skip
    table = Table("family", "target", "probes", "passed", "blocked", "failed", "errors", "pass rate")
    for row in summary(results):
        rate = "-" if row["pass_rate"] is None else f"{row['pass_rate']:.0%}"
        table.add_row(*(str(row[k]) for k in ("family", "target", "probes", "passed", "blocked", "failed", "errors")),
                      rate)  # fmt: skip
    Console().print(table)
    if json_out:
        with atomic_output(json_out, overwrite=overwrite) as fh:
            fh.write(json.dumps(to_json(results), indent=2) + "\n")
    if html_out:
        with atomic_output(html_out, overwrite=overwrite) as fh:
            fh.write(to_html(results))
    statuses = {r.status for r in results}
    if "fail" in statuses:
        raise typer.Exit(1)
    if "error" in statuses:
        raise typer.Exit(2)
