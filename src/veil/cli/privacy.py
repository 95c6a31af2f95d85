"""``veil risk`` and ``veil kanon``: re-identification risk; anonymization to k-anonymity, l-diversity, t-closeness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import DelimiterOpt, OverwriteOpt, QuoteOpt, VaultOpt
from veil.errors import ConfigError
from veil.extras import require
from veil.textio_out import atomic_output

QiOpt = Annotated[str, typer.Option("--qi", help="Quasi-identifier columns, comma-separated.")]
SepOpt = DelimiterOpt
TableOpt = Annotated[str | None, typer.Option("--table", help="Table of a database source (or SOURCE#TABLE).")]
HIERARCHY_HELP = "COLUMN=SPEC: interval:5,10,20, date, prefix, suppress or a CSV file (repeatable)."
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of CSV/JSONL input.")]


def _need() -> None:
    require("tabular", "polars", "pyarrow", "numpy")


def _columns(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise ConfigError("--qi needs at least one column name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"--qi names {', '.join(repeated)} more than once")
    return names


def _load(source: str, table: str | None, sep: str | None, encoding: str, quote: str | None = None) -> Any:
    from veil.tabular.frames import locate, read_frame

    return read_frame(locate(source, table, sep, quote), encoding=encoding)


def _risk_rows(risk: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("rows", f"{risk['rows']:,}"),
        ("equivalence classes", f"{risk['classes']:,}"),
        ("smallest class (k)", str(risk["smallest_class"])),
        ("prosecutor risk, average", f"{risk['prosecutor_average']:.4f}"),
        ("prosecutor risk, highest", f"{risk['prosecutor_highest']:.4f}"),
        (f"records at risk > {risk['threshold']:g}", f"{risk['records_at_risk']:.2%}"),
        ("sample uniques", f"{risk['sample_uniques']:.2%}"),
        ("journalist risk, average", f"{risk['journalist_average']:.4f}"),
        ("journalist risk, highest", f"{risk['journalist_highest']:.4f}"),
        ("marketer risk", f"{risk['marketer']:.4f}"),
        ("population", risk["population"]),
        *(
            [(f"population uniques ({u['model']}, sampling {u['sampling_fraction']:g})", f"{u['fraction']:.2%}")]
            if (u := risk.get("population_uniqueness"))
            else []
        ),
    ]


def _print_risks(title: str, columns: list[tuple[str, dict[str, Any] | None]]) -> None:
    grid = Table(title=title)
    grid.add_column("measure")
    for name, _ in columns:
        grid.add_column(name, justify="right")
    present = [r for _, r in columns if r is not None]
    labels = [label for label, _ in _risk_rows(present[0])]
    values = [dict(_risk_rows(r)) if r is not None else {} for _, r in columns]
    for label in labels:
        grid.add_row(label, *(v.get(label, "-") for v in values))
    Console(stderr=True, highlight=False).print(grid)


def risk_cmd(
    source: Annotated[str, typer.Argument(help="A .csv/.tsv/.parquet/.jsonl file, or a database URL#TABLE.")],
    qi: QiOpt,
    after: Annotated[str | None, typer.Option("--after", help="A released version of the table to compare.")] = None,
    population: Annotated[str | None, typer.Option(help="Population table for journalist/marketer risk.")] = None,
    threshold: Annotated[float, typer.Option(help="Risk above which a record counts as at risk.")] = 0.2,
    sampling_fraction: Annotated[
        float | None,
        typer.Option(
            "--sampling-fraction", help="Share of the population in the table: estimates population uniqueness."
        ),
    ] = None,
    population_model: Annotated[str, typer.Option("--population-model", help="dankar, pitman or zayatz.")] = "dankar",
    table: TableOpt = None,
    sep: SepOpt = None,
    quote: QuoteOpt = None,
    encoding: EncodingOpt = "utf-8",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    out: Annotated[str | None, typer.Option("--out", "-o", help="Write the JSON report here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Re-identification risk of a table on its quasi-identifiers (before and, with --after, after release)."""
    _need()
    from veil.tabular.privacy.risk import assess

    if fmt not in ("table", "json"):
        raise ConfigError("--format must be table or json")
    qis = _columns(qi)
    pop = _load(population, None, sep, encoding, quote) if population else None
    doc: dict[str, Any] = {"source": source, "quasi_identifiers": qis}

    def measure(frame: Any) -> dict[str, Any]:
        return assess(frame, qis, threshold=threshold, population=pop, sampling_fraction=sampling_fraction,
                      population_model=population_model).to_dict()  # fmt: skip

    doc["before"] = measure(_load(source, table, sep, encoding, quote))
    if after:
        doc["after"] = measure(_load(after, None, sep, encoding, quote))
    _emit(doc, fmt, out, overwrite)
    if fmt == "table":
        _print_risks(f"re-identification risk of {source}", [("before", doc["before"]), ("after", doc.get("after"))]
                     if after else [("value", doc["before"])])  # fmt: skip


def _emit(doc: dict[str, Any], fmt: str, out: str | None, overwrite: bool) -> None:
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out is not None:
        with atomic_output(out, overwrite=overwrite) as fh:
            fh.write(text)
    elif fmt == "json":
        typer.echo(text, nl=False)


def kanon_cmd(
    source: Annotated[str, typer.Argument(help="A .csv/.tsv/.parquet/.jsonl file, or a database URL#TABLE.")],
    qi: QiOpt,
    out: Annotated[str, typer.Option("--out", "-o", help="Output file or database URL#TABLE (written atomically).")],
    k: Annotated[int | None, typer.Option("--k", help="k-anonymity: every class has at least k rows.")] = None,
    l: Annotated[float | None, typer.Option("--l", help="l-diversity of the sensitive attribute.")] = None,  # noqa: E741
    l_variant: Annotated[str, typer.Option("--l-variant", help="distinct, entropy or recursive.")] = "distinct",
    c: Annotated[float, typer.Option("--c", help="c of recursive (c,l)-diversity.")] = 3.0,
    t: Annotated[float | None, typer.Option("--t", help="t-closeness of the sensitive attribute.")] = None,
    t_distance: Annotated[str, typer.Option("--t-distance", help="equal, ordered or hierarchical.")] = "equal",
    sensitive: Annotated[str | None, typer.Option("--sensitive", help="The sensitive attribute.")] = None,
    hierarchies: Annotated[Path | None, typer.Option("--hierarchies", help="Directory of hierarchy CSVs.")] = None,
    hierarchy: Annotated[list[str] | None, typer.Option("--hierarchy", help=HIERARCHY_HELP)] = None,
    suppression: Annotated[float, typer.Option("--suppression", help="Share of rows that may be suppressed.")] = 0.0,
    metric: Annotated[str, typer.Option("--metric", help="Utility metric the search minimizes.")] = "entropy",
    method: Annotated[str, typer.Option("--method", help="optimal (full-domain) or mondrian (local).")] = "optimal",
    drop_suppressed: Annotated[bool, typer.Option("--drop-suppressed", help="Leave suppressed rows out.")] = False,
    out_table: Annotated[str | None, typer.Option("--out-table", help="Table of a database output.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
    report: Annotated[str | None, typer.Option("--report", help="Write the JSON report here.")] = None,
    table: TableOpt = None,
    sep: SepOpt = None,
    quote: QuoteOpt = None,
    encoding: EncodingOpt = "utf-8",
    vault: VaultOpt = None,
) -> None:
    """Anonymize a table to k-anonymity / l-diversity / t-closeness with the least information loss."""
    _need()
    from veil.tabular.location import parse_location
    from veil.tabular.privacy.hierarchy import load_directory, parse_spec
    from veil.tabular.privacy.models import build_models
    from veil.tabular.privacy.release import protect
    from veil.tabular.writers import writing

    qis = _columns(qi)
    wanted = [*qis, *([sensitive] if sensitive else [])]
    found = load_directory(hierarchies, wanted) if hierarchies else {}
    for spec in hierarchy or []:
        column, eq, text = spec.partition("=")
        if not eq or not column.strip():
            raise ConfigError(f"--hierarchy needs COLUMN=SPEC, not '{spec}'")
        found[column.strip()] = parse_spec(text.strip())
    sensitive_h = found.get(sensitive) if sensitive else None
    if t is not None and t_distance == "hierarchical" and sensitive_h is None:
        raise ConfigError(f"hierarchical t-closeness needs a hierarchy for '{sensitive}'",
                          hint="--hierarchy COLUMN=FILE or --hierarchies DIR")  # fmt: skip
    models = build_models(k=k, l=l, l_variant=l_variant, c=c, t=t, t_distance=t_distance, sensitive=sensitive,
                          sensitive_hierarchy=sensitive_h)  # fmt: skip
    src_frame = _load(source, table, sep, encoding, quote)
    src = parse_location(source, table)
    dst = parse_location(out, out_table)
    release = protect(src_frame, qis, models, hierarchies={q: h for q, h in found.items() if q in qis},
                      sensitive=sensitive, suppression=suppression, metric=metric, method=method,
                      drop_suppressed=drop_suppressed)  # fmt: skip
    with writing(dst, overwrite=overwrite, source=src) as sink:
        sink.write(release.frame)
    doc = {"source": source, "out": out, **release.report}
    if report is not None:
        with atomic_output(report, overwrite=overwrite) as fh:
            fh.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    _audit(doc, vault)
    console = Console(stderr=True, highlight=False)
    if "levels" in doc:
        levels = ", ".join(f"{q}={lv}/{doc['hierarchy_depth'][q]}" for q, lv in doc["levels"].items())
        console.print(f"levels: {levels}")
        console.print(f"suppressed {doc['suppressed_rows']:,} of {doc['rows']:,} rows; {doc['metric']} loss "
                      f"{doc['loss']:.6g}; {doc['search']['checks']} checks of {doc['search']['nodes']:,} "
                      f"transformations in {doc['search']['seconds'] * 1000:.0f} ms")  # fmt: skip
    else:
        console.print(f"{doc['classes']:,} classes in {doc['search']['rounds']} rounds, "
                      f"{doc['search']['seconds']:.2f} s")  # fmt: skip
    _print_risks(f"{source} -> {out}", [("before", doc["risk_before"]), ("after", doc["risk_after"])])


def _audit(doc: dict[str, Any], vault_url: str | None) -> None:
    """Record the release in the vault's audit log: what was released under which guarantee, never the data."""
    from veil.vault import Vault

    vault = Vault(vault_url)
    vault.audit.append("cli", "kanon", source=doc["source"], sink=doc["out"], rows=doc["rows"],
                       models=doc["models"], method=doc["method"],
                       smallest_class=(doc["risk_after"] or {}).get("smallest_class"))  # fmt: skip
