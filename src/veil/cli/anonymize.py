"""``veil anonymize``, ``veil restore`` and ``veil policy``."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.anonymizer import Anonymizer, rule_summary
from veil.cli.options import OverwriteOpt, VaultOpt, err, require_principal
from veil.errors import ConfigError, InputError
from veil.guard import fields as fields_mod
from veil.policy import load_policy, load_starter_policy, starter_policy
from veil.textio import read_blocks
from veil.textio_out import atomic_output
from veil.vault import Vault

PolicyOpt = Annotated[
    Path | None,
    typer.Option("--policy", "-p", help="Policy YAML file (veil policy init writes one; default: the starter policy)."),
]
OutOpt = Annotated[str | None, typer.Option("--out", "-o", help="Output file (written atomically); default stdout.")]
BATCH_LINES = 512


def _anonymizer(policy: Path | None, vault: str | None) -> Anonymizer:
    if policy is None:
        err.print("[dim]no --policy: using the built-in starter policy (veil policy init writes it to review)[/]")
        loaded = load_starter_policy()
    else:
        loaded = load_policy(policy)
    return Anonymizer(loaded, vault=Vault(vault) if vault else None)


def _literal(source: str, text: bool) -> bool:
    return text or (source != "-" and not Path(source).exists())


def _jsonl_batches(source: str, literal: bool) -> Any:
    lines: list[tuple[int, dict[str, Any]]] = []
    stream = [(0, source)] if literal else read_blocks(source)
    number = 0
    carry = ""
    for _, block in stream:
        chunk = carry + block
        *complete, carry = chunk.split("\n")
        for raw in complete:
            number += 1
            if raw.strip():
                lines.append((number, _parse(raw, number)))
            if len(lines) >= BATCH_LINES:
                yield lines
                lines = []
    if carry.strip():
        lines.append((number + 1, _parse(carry, number + 1)))
    if lines:
        yield lines


def _parse(raw: str, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {number}: not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"line {number}: nested too deeply") from None
    except ValueError:  # a number of more digits than Python converts (4,300)
        raise InputError(f"line {number}: a number too long to read") from None
    if not isinstance(obj, dict):
        raise InputError(f"line {number}: expected a JSON object, got {type(obj).__name__}")
    return obj


JSONL_DEPTH = 200


def _strings(obj: dict[str, Any], number: int, fields: list[list[str]] | None) -> list[fields_mod.Slot]:
    """Every string of a record at any depth (inside objects and arrays); with ``--fields``, those under the
    dotted paths given (``user.email`` also reaches ``user: [{email: ...}]``)."""
    try:
        found = fields_mod.slots(obj, fields_mod.Node(), numbers=False, max_depth=JSONL_DEPTH)
    except InputError:
        raise InputError(f"line {number}: nested deeper than {JSONL_DEPTH} levels") from None
    found = [s for s in found if s.kind == "text"]
    if fields is None:
        return found
    return [s for s in found if any([p for p in s.path if isinstance(p, str)][: len(f)] == f for f in fields)]


def _transform_jsonl(source: str, literal: bool, fields: list[str] | None, fn: Any, out: Any) -> Counter[str]:
    counts: Counter[str] = Counter()
    paths = [f.split(".") for f in fields] if fields else None
    for batch in _jsonl_batches(source, literal):
        slots = [s for number, obj in batch for s in _strings(obj, number, paths)]
        for slot, value in zip(slots, fn([s.text for s in slots], counts), strict=True):
            slot.container[slot.key] = value
        for _, obj in batch:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return counts


def anonymize(
    source: Annotated[str, typer.Argument(help="Text, a file, or - for standard input.")],
    policy: PolicyOpt = None,
    purpose: Annotated[str | None, typer.Option(help="Declared purpose: its 'keep' entities stay as they are.")] = None,
    text: Annotated[bool, typer.Option("--text", "-t", help="Treat SOURCE as the text itself.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Input is JSON Lines: every string, at any depth.")] = False,
    fields: Annotated[
        str | None, typer.Option(help="With --jsonl: only these fields (comma-separated, dotted: user.email).")
    ] = None,
    out: OutOpt = None,
    overwrite: OverwriteOpt = False,
    vault: VaultOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for detection (0 = all cores).")] = 1,
) -> None:
    """Detect personal data and transform it as the policy says."""
    anon = _anonymizer(policy, vault)
    if purpose is not None:
        anon.policy.purpose(purpose)
    literal = _literal(source, text)

    def run(texts: list[str], counts: Counter[str]) -> list[str]:
        results = anon.anonymize_many(texts, purpose, n_process=jobs)
        for r in results:
            counts.update(f"{i.entity}->{i.operator}" for i in r.items)
        return [r.text for r in results]

    with atomic_output(out, overwrite=overwrite, inputs=[] if literal else [source]) as fh:
        if jsonl:
            counts = _transform_jsonl(source, literal, _fields(fields), run, fh)
        else:
            counts = Counter()
            blocks = [(0, source)] if literal else read_blocks(source)
            for _, block in blocks:
                fh.write(run([block], counts)[0])
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no personal data found"
    err.print(f"[dim]anonymized ({anon.policy.scope}): {summary}[/]")


def restore(
    source: Annotated[str, typer.Argument(help="Anonymized text, a file, or - for standard input.")],
    policy: PolicyOpt = None,
    text: Annotated[bool, typer.Option("--text", "-t", help="Treat SOURCE as the text itself.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Input is JSON Lines.")] = False,
    fields: Annotated[str | None, typer.Option(help="With --jsonl: only these fields.")] = None,
    out: OutOpt = None,
    overwrite: OverwriteOpt = False,
    vault: VaultOpt = None,
) -> None:
    """Put the original values back for pseudonyms and encrypted values (needs the same vault)."""
    anon = _anonymizer(policy, vault)
    actor = require_principal(anon.vault, "detokenize", policy=anon.policy)
    literal = _literal(source, text)
    left: list[str] = []

    def run(texts: list[str], counts: Counter[str]) -> list[str]:
        return [anon.restore(t, actor=actor, on_foreign=left.append) for t in texts]

    with atomic_output(out, overwrite=overwrite, inputs=[] if literal else [source]) as fh:
        if jsonl:
            _transform_jsonl(source, literal, _fields(fields), run, fh)
        else:
            blocks = [(0, source)] if literal else read_blocks(source)
            for _, block in blocks:
                fh.write(run([block], Counter())[0])
    if left:
        err.print(f"warning: {len(left)} token(s) are not in this vault and were left as they are "
                  f"(another vault, scope '{anon.policy.scope}' of another policy, or shredded subjects?)")  # fmt: skip


def _fields(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [f.strip() for f in value.split(",") if f.strip()]
    if not names:
        raise ConfigError("--fields is empty")
    return names


policy_app = typer.Typer(help="Write and check policy files.", no_args_is_help=True)


@policy_app.command("init")
def policy_init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter policy.")] = Path("policy.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter policy."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists", hint="use --force to overwrite")
    path.write_text(starter_policy(), encoding="utf-8")
    err.print(f"wrote {path}: review it, then `veil policy check {path}`")


@policy_app.command("check")
def policy_check(path: Annotated[Path, typer.Argument(help="Policy file to check.")]) -> None:
    """Validate a policy and show what it does to each entity."""
    policy = load_policy(path)
    table = Table(title=f"{path}: valid (scope '{policy.scope}', reversible: {policy.reversible})")
    table.add_column("entity")
    table.add_column("operator")
    table.add_row("(default)", rule_summary(policy.default))
    for entity, rule in sorted(policy.entities.items()):
        table.add_row(entity, rule_summary(rule))
    Console(highlight=False).print(table)
    for name, p in sorted(policy.purposes.items()):
        keep = ", ".join(p.keep) or "nothing"
        Console(highlight=False).print(f"purpose [bold]{name}[/]: keeps {keep}. {p.description}")
    sys.stdout.flush()
