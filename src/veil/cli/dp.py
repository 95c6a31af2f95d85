"""``veil dp query`` and ``veil dp budget``: private statistics against a per-dataset budget."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import DelimiterOpt, OverwriteOpt, QuoteOpt, VaultOpt
from veil.errors import ConfigError
from veil.extras import require
from veil.textio_out import atomic_output, check_target

QUERY_HELP = "count [by COL], sum|mean COL [by COL], variance|median COL, quantile COL Q, histogram COL"
TARGET_HELP = "Pick the smallest epsilon whose error bound is at most this."
dp_app = typer.Typer(help="Differential privacy: private statistics and the privacy budget.", no_args_is_help=True)
console = Console(stderr=True, highlight=False)


def _need() -> None:
    require("tabular", "polars", "pyarrow")
    require("dp", "opendp")


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for item in values or []:
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise ConfigError(f"{option} needs COLUMN=VALUE, not '{item}'")
        out[name.strip()] = value.strip()
    return out


MAX_BOUND = 1e12


def _bounds(values: list[str] | None) -> dict[str, tuple[float, float]]:
    out = {}
    for name, text in _pairs(values, "--bounds").items():
        low, colon, high = text.partition(":")
        try:
            out[name] = (float(low), float(high))
        except ValueError:
            raise ConfigError(f"--bounds {name}={text}: write LOW:HIGH, e.g. {name}=0:100") from None
        if not colon:
            raise ConfigError(f"--bounds {name}={text}: write LOW:HIGH, e.g. {name}=0:100")
        low_v, high_v = out[name]
        if not all(math.isfinite(v) and abs(v) <= MAX_BOUND for v in (low_v, high_v)) or low_v >= high_v:
            raise ConfigError(f"--bounds {name}: LOW must be below HIGH, both finite and within +-{MAX_BOUND:g} "
                              "(wider bounds overflow the noise calibration)")  # fmt: skip
    return out


def _dataset_name(source: str, table: str | None, given: str | None) -> str:
    if given:
        return given
    from veil.tabular.location import parse_location

    location = parse_location(source, table)
    return str(Path(location.target).resolve()) if location.is_file else str(location)


@dp_app.command("query")
def query_cmd(
    source: Annotated[str, typer.Argument(help="A .csv/.tsv/.parquet/.jsonl file, or a database URL#TABLE.")],
    query: Annotated[str, typer.Argument(help=QUERY_HELP)],
    epsilon: Annotated[float | None, typer.Option("--epsilon", "-e", help="Privacy loss of this release.")] = None,
    delta: Annotated[float, typer.Option("--delta", help="Needed to find group keys privately.")] = 0.0,
    bounds: Annotated[list[str] | None, typer.Option("--bounds", help="COLUMN=LOW:HIGH (repeatable).")] = None,
    keys: Annotated[list[str] | None, typer.Option("--keys", help="Public group keys: COLUMN=a,b,c.")] = None,
    target_error: Annotated[float | None, typer.Option("--target-error", help=TARGET_HELP)] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Error bounds hold with probability 1 - alpha.")] = 0.05,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show cost and expected error; spend nothing.")] = False,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Budget name (default: the source).")] = None,
    contributions: Annotated[int, typer.Option("--contributions", help="Rows one person may add.")] = 1,
    mechanism: Annotated[
        str, typer.Option("--mechanism", help="laplace, or gaussian (zCDP; needs --delta).")
    ] = "laplace",
    max_rows: Annotated[int, typer.Option("--max-rows", help="Public upper bound on the number of rows.")] = 10**7,
    table: Annotated[str | None, typer.Option("--table", help="Table of a database source.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Purpose of the release (with --subject-column).")] = None,
    subject_column: Annotated[
        str | None, typer.Option("--subject-column", help="Rows of subjects without consent for --purpose left out.")
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", "-p", help="Policy with the purposes.")] = None,
    sep: DelimiterOpt = None,
    quote: QuoteOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    out: Annotated[str | None, typer.Option("--out", "-o", help="Write the JSON result here.")] = None,
    overwrite: OverwriteOpt = False,
    vault: VaultOpt = None,
) -> None:
    """Release one differentially private statistic, charged to the dataset's budget (never overspent)."""
    _need()
    from veil.dp import Ledger, PlannedQuery, epsilon_for_error, parse_query
    from veil.tabular.frames import locate, read_frame
    from veil.vault import Vault

    if fmt not in ("table", "json"):
        raise ConfigError("--format must be table or json")
    if epsilon is None and target_error is None:
        raise ConfigError("give --epsilon, or --target-error to choose it")
    if epsilon is not None and not (math.isfinite(epsilon) and epsilon > 0):
        raise ConfigError("--epsilon must be a finite number above 0")
    if out not in (None, "-"):
        check_target(out, overwrite=overwrite, inputs=[source])  # before any budget is spent
    spec = parse_query(query)
    frame = read_frame(locate(source, table, sep, quote))
    if subject_column is not None:
        frame = _consented(frame, vault, policy, purpose, subject_column)
    key_values = {k: [x.strip() for x in v.split(",") if x.strip()] for k, v in _pairs(keys, "--keys").items()}
    start = epsilon if epsilon is not None else 1.0  # with --target-error: a first guess, chosen below
    planned = PlannedQuery(frame, spec, epsilon=start, delta=delta, bounds=_bounds(bounds), keys=key_values,
                           contributions=contributions, max_rows=max_rows, mechanism=mechanism)  # fmt: skip
    if target_error is not None:
        chosen = epsilon_for_error(planned, target_error, alpha)
        if epsilon is not None and chosen > epsilon:
            raise ConfigError(f"an error of {target_error:g} needs epsilon={chosen:.4g}, above --epsilon {epsilon:g}")
        planned = planned.at(chosen)
    name = _dataset_name(source, table, dataset)
    ledger = Ledger.of(Vault(vault))
    cost = planned.cost()
    errors = planned.expected_error(alpha)
    doc: dict[str, Any] = {"dataset": name, "query": spec.text, "epsilon": cost[0], "delta": cost[1],
                           "rho": planned.rho(), "confidence": 1 - alpha,
                           "expected_error": [e.to_dict() for e in errors]}  # fmt: skip
    if dry_run:
        budget = ledger.budget(name)
        doc["remaining_epsilon"], doc["remaining_delta"] = budget.remaining_epsilon, budget.remaining_delta
        doc["released"] = False
    else:
        result = planned.release(ledger, name, alpha=alpha)
        doc.update(released=True, spend=result.spend_id, values=result.values.to_dicts(),
                   remaining_epsilon=result.remaining_epsilon, remaining_delta=result.remaining_delta)  # fmt: skip
    text = json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n"
    if out is not None:
        with atomic_output(out, overwrite=overwrite) as fh:
            fh.write(text)
    if fmt == "json":
        typer.echo(text, nl=False)
        return
    _print(doc)


def _consented(frame: Any, vault: str | None, policy: Path | None, purpose: str | None, column: str) -> Any:
    """Only the rows of subjects who may be processed for ``purpose``. How many were left out is not reported:
    that count is not differentially private."""
    from veil.governance.enforce import consent_filter
    from veil.policy import load_policy
    from veil.vault import Vault

    if purpose is None or policy is None:
        raise ConfigError("--subject-column needs --purpose and --policy (consent is given for a policy's purpose)")
    return consent_filter(Vault(vault), load_policy(policy), purpose, column)(frame)


def _print(doc: dict[str, Any]) -> None:
    head = f"{doc['query']} on {doc['dataset']}: epsilon={doc['epsilon']:.4g}, delta={doc['delta']:.3g}"
    console.print(head + ("" if doc["released"] else " (dry run: nothing spent)"))
    errors = Table(title=f"expected error ({doc['confidence']:.0%} of releases fall within +-)")
    for name in ("column", "aggregate", "mechanism", "noise scale", "+-", "threshold"):
        errors.add_column(name)
    for e in doc["expected_error"]:
        scale = "-" if e["accuracy"] is None else f"{e['scale']:.4g}"
        errors.add_row(e["column"], e["aggregate"], e["mechanism"], scale,
                       "n/a" if e["accuracy"] is None else f"{e['accuracy']:.4g}",
                       "" if e["threshold"] is None else str(e["threshold"]))  # fmt: skip
    console.print(errors)
    if doc["released"]:
        _print_values(doc)
    console.print(f"budget left: epsilon={doc['remaining_epsilon']:.4g}, delta={doc['remaining_delta']:.3g}")


def _print_values(doc: dict[str, Any]) -> None:
    """The released values, each with its expected error beside it; a warning where the noise outweighs it."""
    values = doc["values"]
    bound = {e["column"]: e["accuracy"] for e in doc["expected_error"] if e["accuracy"] is not None}
    grid = Table(title=f"released (differentially private; +- holds for {doc['confidence']:.0%} of releases)")
    columns = list(values[0]) if values else []
    for column in columns:
        grid.add_column(column, justify="right")
        if column in bound or (column == "mean" and {"sum", "count"} <= set(bound)):
            grid.add_column("+-", justify="right")
    noisy = 0
    for row in values:
        cells = []
        for column in columns:
            value = row[column]
            cells.append(f"{value:.6g}" if isinstance(value, float) else str(value))
            err_ = _error_of(column, row, bound)
            if err_ is not None:
                cells.append("unbounded" if math.isinf(err_) else f"{err_:.3g}")
                noisy += isinstance(value, int | float) and err_ >= abs(value)
        grid.add_row(*cells)
    Console(highlight=False).print(grid)
    if noisy:
        console.print(f"[yellow]warning[/]: {noisy} released value(s) have an expected error as large as the value "
                      "itself: they say little. Use more rows, wider groups, or a larger epsilon.")  # fmt: skip


def _error_of(column: str, row: dict[str, Any], bound: dict[str, float]) -> float | None:
    """The +- of one released value; a mean's is carried from its sum's and count's (post-processing)."""
    if column in bound:
        return bound[column]
    if column == "mean" and "sum" in bound and "count" in bound and isinstance(row.get("count"), int | float):
        low_count = row["count"] - bound["count"]
        if low_count <= 0:
            return math.inf
        return float((bound["sum"] + abs(row.get("mean") or 0.0) * bound["count"]) / low_count)
    return None


@dp_app.command("budget")
def budget_cmd(
    dataset: Annotated[str | None, typer.Argument(help="Dataset (as named in queries); all when omitted.")] = None,
    set_epsilon: Annotated[float | None, typer.Option("--set", help="Set the total epsilon of DATASET.")] = None,
    delta: Annotated[float | None, typer.Option("--delta", help="With --set: the total delta.")] = None,
    history: Annotated[bool, typer.Option("--history", help="List every release.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    vault: VaultOpt = None,
) -> None:
    """Show what each dataset has spent and has left; --set creates or changes a budget."""
    from veil.dp import Ledger
    from veil.vault import Vault

    ledger = Ledger.of(Vault(vault))
    if set_epsilon is not None:
        if dataset is None:
            raise ConfigError("--set needs the DATASET")
        ledger.set_budget(dataset, set_epsilon, delta or 0.0)
    elif delta is not None:
        raise ConfigError("--delta is given with --set")
    budgets = [ledger.budget(dataset)] if dataset else ledger.datasets()
    if fmt == "json":
        doc = [{**b.to_dict(), **({"spends": [s.__dict__ for s in b.spends]} if history else {})} for b in budgets]
        typer.echo(json.dumps(doc, indent=2))
        return
    grid = Table(title="privacy budgets")
    for name in ("dataset", "epsilon", "spent", "left", "delta", "spent", "left", "releases"):
        grid.add_column(name, justify="right" if name != "dataset" else "left")
    for b in budgets:
        eps = (f"{b.epsilon:.4g}", f"{b.spent_epsilon:.4g}", f"{b.remaining_epsilon:.4g}")
        dlt = (f"{b.delta:.3g}", f"{b.spent_delta:.3g}", f"{b.remaining_delta:.3g}")
        grid.add_row(b.dataset, *eps, *dlt, str(len(b.spends)))
    Console(highlight=False).print(grid)
    if history:
        for b in budgets:
            spends = Table(title=f"releases of {b.dataset}")
            for name in ("id", "at", "actor", "query", "mechanism", "epsilon", "delta"):
                spends.add_column(name)
            for s in b.spends:
                spends.add_row(str(s.id), s.at, s.actor, s.query, s.mechanism, f"{s.epsilon:.4g}", f"{s.delta:.3g}")
            Console(highlight=False).print(spends)
