"""``veil fl``: federated learning on Flower's Deployment Runtime, every round charged to the DP ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import DelimiterOpt, OverwriteOpt, VaultOpt, err
from veil.errors import ConfigError
from veil.textio_out import atomic_output, check_target

fl_app = typer.Typer(help="Federated learning (Flower): partition, spec, app, run.", no_args_is_help=True)


def _frame(table: str, sep: str | None) -> Any:
    from veil.tabular.frames import locate, read_frame

    return read_frame(locate(table, None, sep, None))


@fl_app.command("partition")
def partition_cmd(
    table: Annotated[str, typer.Argument(help="The table to split (CSV, Parquet, ...).")],
    by: Annotated[str, typer.Option("--by", help="Column whose values decide the client (a non-IID split).")],
    clients: Annotated[int, typer.Option("--clients", min=2, help="Number of partitions.")] = 3,
    out: Annotated[Path, typer.Option("--out", help="Directory for part-0.csv .. part-N.csv.")] = Path("partitions"),
    sep: DelimiterOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Split a table into one CSV per client by a column's values (for tests and demos of a federation)."""
    from veil.learn.fl.run import partition

    parts = partition(_frame(table, sep), by, clients)
    out.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(parts):
        target = check_target(str(out / f"part-{i}.csv"), overwrite=overwrite)
        part.write_csv(target)
        err.print(f"{target}: {part.height} rows")


@fl_app.command("spec")
def spec_cmd(
    table: Annotated[str, typer.Argument(help="A reference table the encoding may be learned from.")],
    label: Annotated[str, typer.Option("--label", help="The label column.")],
    positive: Annotated[str, typer.Option("--positive", help="The label's positive value.")],
    numeric: Annotated[str, typer.Option("--numeric", help="Comma-separated numeric columns.")] = "",
    drop: Annotated[str, typer.Option("--drop", help="Comma-separated columns the model does not use.")] = "",
    out: Annotated[str, typer.Option("--out", help="The feature spec (JSON).")] = "spec.json",
    sep: DelimiterOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Write a feature spec (label, standardization constants, category lists) every client encodes with. It
    discloses the table's categories and means: learn it from public or reference data, not a client's."""
    from veil.learn.fl.spec import FeatureSpec

    frame = _frame(table, sep)
    dropped = [c.strip() for c in drop.split(",") if c.strip()]
    frame = frame.drop([c for c in dropped if c in frame.columns])
    spec = FeatureSpec.fit(frame, label, positive, [c.strip() for c in numeric.split(",") if c.strip()])
    with atomic_output(out, overwrite=overwrite) as fh:
        fh.write(json.dumps(json.loads(spec.to_json()), indent=1) + "\n")
    err.print(f"{out}: {spec.width} features from {len(spec.columns) - 1} columns")


@fl_app.command("app")
def app_cmd(directory: Annotated[Path, typer.Argument(help="Where to write the Flower App.")]) -> None:
    """Write the Flower App (pyproject.toml) to submit with ``flwr run DIR <connection>`` to a remote SuperLink."""
    from veil.learn.fl.runtime import write_app

    write_app(directory)
    err.print(f"{directory / 'pyproject.toml'}: Flower App 'veil-fl' (ServerApp and ClientApp in veil.learn.fl)")


def _settings(**kw: Any) -> Any:
    from veil.learn.fl.accounting import calibrate
    from veil.learn.fl.spec import RunSettings

    epsilon = kw.pop("epsilon")
    mode = kw["mode"]
    if mode != "none":
        if epsilon is None:
            raise ConfigError(f"--dp {mode} needs --epsilon (the whole run's target)")
        plan = calibrate(mode, epsilon, rounds=kw["rounds"], clip=kw["clip"], delta=kw["delta"],
                         sample_rate=kw["sample_rate"], local_steps=kw["local_steps"])  # fmt: skip
        kw["noise_multiplier"] = plan.noise_multiplier
    return RunSettings(**kw)


@fl_app.command("run")
def run_cmd(
    partitions: Annotated[list[str], typer.Argument(help="One table per client (e.g. from veil fl partition); with "
                                                    "--superlink, one name per expected client.")],
    spec: Annotated[Path, typer.Option("--spec", help="The feature spec (veil fl spec).")],
    dataset: Annotated[str, typer.Option("--dataset", help="Ledger dataset charged for the run.")] = "federated",
    rounds: Annotated[int, typer.Option("--rounds", min=1)] = 5,
    dp: Annotated[str, typer.Option("--dp", help="none | client (client-side clipping) | sample (DP-SGD).")] = (
        "sample"
    ),
    epsilon: Annotated[float | None, typer.Option("--epsilon", help="The whole run's epsilon.")] = None,
    delta: Annotated[float, typer.Option("--delta")] = 1e-5,
    clip: Annotated[float, typer.Option("--clip", help="Clipping norm (an update's, or a record's gradient).")] = 1.0,
    sample_rate: Annotated[float, typer.Option("--sample-rate", help="DP-SGD: a record's chance per step.")] = 0.01,
    local_steps: Annotated[int, typer.Option("--local-steps", help="DP-SGD steps per round.")] = 100,
    learning_rate: Annotated[float, typer.Option("--learning-rate")] = 0.5,
    secagg: Annotated[bool, typer.Option("--secagg/--no-secagg", help="Flower's SecAgg+ for every update.")] = True,
    threshold: Annotated[int, typer.Option("--threshold", help="SecAgg+ reconstruction threshold.")] = 2,
    min_clients: Annotated[int | None, typer.Option("--min-clients", help="Fewest clients a round needs.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", "-p", help="Every client's Veil policy.")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="The purpose the clients prepare data for.")] = None,
    vault: VaultOpt = None,
    home: Annotated[Path, typer.Option("--home", help="Working directory of the deployment and its logs.")] = Path(
        ".veil/fl"
    ),
    superlink: Annotated[str | None, typer.Option("--superlink", help="Submit to this remote SuperLink (HOST:PORT) "
                                                  "instead of starting one; its nodes bring their own data.")] = None,
    out: Annotated[str | None, typer.Option("--out", help="Write the report (JSON) here.")] = None,
    plot: Annotated[str | None, typer.Option("--plot", help="Write accuracy per round (SVG) here.")] = None,
    round_timeout: Annotated[float, typer.Option("--round-timeout", help="Seconds a stage waits for clients.")] = 120.0,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run a federation on loopback: a SuperLink and one SuperNode per partition; each client applies the policy and
    purpose to its own table, trains locally and sends only (masked) updates; each round is reserved in the ledger
    before it runs."""
    from veil.learn.fl.run import run_local
    from veil.learn.fl.spec import FeatureSpec
    from veil.storage.engine import default_url

    for target in (out, plot):
        if target:
            check_target(target, overwrite=overwrite)
    n = len(partitions)
    settings = _settings(spec=FeatureSpec.load(spec).to_json(), dataset=dataset, rounds=rounds, mode=dp,
                         epsilon=epsilon, delta=delta, clip=clip, sample_rate=sample_rate, local_steps=local_steps,
                         learning_rate=learning_rate, clients=n, min_clients=min_clients or max(1, n - 1),
                         secagg=secagg, secagg_threshold=threshold, round_timeout=round_timeout)  # fmt: skip
    if superlink:
        from veil.learn.fl.run import submit_remote

        run_id = submit_remote(superlink, settings, home=home)
        err.print(f"submitted run {run_id} to {superlink}; its ServerApp writes the report on the SuperLink's side")
        return
    extra = {} if secagg else {"allow-plain": True}
    report = run_local(partitions, settings, home=home, vault_url=vault or default_url(), policy=policy,
                       purpose=purpose, node_extra=extra)  # fmt: skip
    _print(report)
    if out:
        with atomic_output(out, overwrite=overwrite) as fh:
            fh.write(json.dumps(report, indent=1) + "\n")
    if plot:
        from veil.learn.fl.report import plot_svg

        with atomic_output(plot, overwrite=overwrite) as fh:
            fh.write(plot_svg(report))
    if report.get("status") != "done":
        err.print(f"[red]run {report.get('status')}[/red]: {report.get('error') or 'see the rounds above'}")
        raise typer.Exit(1)


def _print(report: dict[str, Any]) -> None:
    table = Table(title=f"federated run {report['run_id']} ({report['mechanism']})")
    for column in ("round", "status", "clients", "dropped", "epsilon", "total epsilon", "loss", "accuracy", "s"):
        table.add_column(column, justify="right")
    for r in report["rounds"]:
        table.add_row(str(r["round"]), r["status"], str(r["clients"]), str(r["dropped"]), f"{r['epsilon_round']:.4g}",
                      f"{r['epsilon_total']:.4g}", "" if r["loss"] is None else f"{r['loss']:.4f}",
                      "" if r["accuracy"] is None else f"{r['accuracy']:.4f}", f"{r['seconds']:.1f}")  # fmt: skip
    Console().print(table)
