"""``veil he``: encrypted inference with TenSEAL CKKS: keys (client), train (model owner), encrypt (client),
score (server, public context only), decrypt (client)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from veil.cli.options import DelimiterOpt, OverwriteOpt, VaultOpt, err
from veil.errors import ConfigError, InputError
from veil.textio_out import atomic_output, check_target

he_app = typer.Typer(help="Encrypted inference (TenSEAL CKKS): keys, train, encrypt, score, decrypt.",
                     no_args_is_help=True)  # fmt: skip


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(_read(path))
    except ValueError:
        raise InputError(f"{path} is not JSON") from None


def _listed(path: Path, key: str, writer: str) -> list[Any]:
    """The list under ``key`` of a JSON file another ``veil he`` command wrote."""
    doc = _json(path)
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise InputError(f"{path}: no '{key}' list ({writer} writes one)")
    return items


def _write_json(doc: Any, out: str, overwrite: bool) -> None:
    with atomic_output(out, overwrite=overwrite) as fh:
        fh.write(json.dumps(doc) + "\n")


@he_app.command("keys")
def keys(
    out: Annotated[Path, typer.Option("--out", help="The client's context WITH its secret key (mode 0600).")],
    public: Annotated[Path, typer.Option("--public", help="The public context to give the server.")],
    poly: Annotated[int, typer.Option(help="Poly modulus degree.")] = 8192,
    moduli: Annotated[str, typer.Option(help="Coefficient modulus bit sizes.")] = "40,30,30,30,40",
    scale: Annotated[int, typer.Option(help="Scale bits (the middle primes' size).")] = 30,
    rotations: Annotated[bool, typer.Option("--rotations", help="Add rotation (Galois) keys to the public context: "
                                            "needed by encrypt --layout rows (fast for a few records).")] = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Make a client's CKKS keys (parameters checked for 128-bit security and the scoring circuit's depth)."""
    from veil.learn.he.params import CkksParams, make_keys

    try:
        sizes = tuple(int(m) for m in moduli.split(","))
    except ValueError:
        raise ConfigError("--moduli is a comma-separated list of bit sizes, e.g. 40,30,30,30,40") from None
    params = CkksParams(poly, sizes, scale)
    for path in (out, public):
        check_target(path, overwrite=overwrite)
    made = make_keys(params, rotations=rotations)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(made.to_bytes())
    public.write_bytes(made.public)
    err.print(f"keys: {json.dumps(params.describe())}; keep {out} secret, give {public} to the server")


@he_app.command("train")
def train_cmd(
    table: Annotated[str, typer.Argument(help="Training table (CSV, Parquet, JSONL, URL#table).")],
    label: Annotated[str, typer.Option(help="The label column.")],
    positive: Annotated[str, typer.Option(help="The label value that is class 1.")],
    out: Annotated[str, typer.Option("--out", help="Model file (JSON).")],
    numeric: Annotated[str, typer.Option(help="Numeric columns (others are one-hot).")] = "",
    hidden: Annotated[int, typer.Option("--hidden", help="An MLP with this many square-activated hidden units "
                                        "(0: logistic regression). Its keys: --poly 16384 --moduli "
                                        "60,40,40,40,40,40,60 --scale 40.")] = 0,
    sep: DelimiterOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Train the model in the clear (the model owner's side): logistic regression, or a small MLP."""
    import numpy as np

    from veil.learn.he.mlp import train_mlp
    from veil.learn.he.model import train
    from veil.tabular.frames import locate, read_frame

    frame = read_frame(locate(table, None, sep, None))
    columns = [c.strip() for c in numeric.split(",") if c.strip()]
    model = train_mlp(frame, label, positive, columns, hidden) if hidden else train(frame, label, positive, columns)
    x = model.encoder.transform(frame)
    truth = np.asarray(frame[label].cast(str).to_list()) == positive
    acc = float(np.mean((model.predict_proba(x) > 0.5) == truth))
    _write_json(model.to_dict(), out, overwrite)
    err.print(f"{len(model.weights)} features, training accuracy {acc:.4f}, logit radius {model.radius:.2f}, "
              f"circuit depth {model.depth}")


@he_app.command("encrypt")
def encrypt_cmd(
    table: Annotated[str, typer.Argument(help="Records to score.")],
    model: Annotated[Path, typer.Option(help="Model file (its encoder).")],
    context: Annotated[Path, typer.Option(help="The client's context (with its secret key).")],
    out: Annotated[str, typer.Option("--out", help="Encrypted batches (JSON).")],
    layout: Annotated[str, typer.Option("--layout", help="columns: one ciphertext per feature, thousands of "
                                        "records in its slots; rows: one ciphertext per record (keys --rotations; "
                                        "the logistic regression).")] = "columns",
    sep: DelimiterOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Encode and encrypt records: packed by columns (throughput) or one record per ciphertext (latency)."""
    from veil.learn.he.model import load_model
    from veil.learn.he.params import Keys
    from veil.learn.he.scoring import encrypt
    from veil.tabular.frames import locate, read_frame

    m = load_model(model)
    x = m.encoder.transform(read_frame(locate(table, None, sep, None)))
    batches = encrypt(Keys.from_bytes(_read(context)), x, layout=layout)
    _write_json({"batches": [b.to_dict() for b in batches]}, out, overwrite)
    err.print(f"{sum(b.rows for b in batches):,} records in {len(batches)} batch(es)")


@he_app.command("score")
def score_cmd(
    batches: Annotated[Path, typer.Argument(help="Encrypted batches from veil he encrypt.")],
    model: Annotated[Path, typer.Option(help="Model file.")],
    public: Annotated[Path, typer.Option(help="The client's PUBLIC context (a secret one is refused).")],
    out: Annotated[str, typer.Option("--out", help="Encrypted scores (JSON).")],
    vault: VaultOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Score encrypted records without decrypting them (the server's side); audited."""
    from veil.learn.he.model import load_model
    from veil.learn.he.params import load_context
    from veil.learn.he.scoring import EncryptedBatch, score
    from veil.vault import Vault

    m = load_model(model)
    pub = _read(public)
    ctx = load_context(pub, server=True)
    items = _listed(batches, "batches", "veil he encrypt")
    audit = Vault(vault).audit
    scored = [score(pub, m, EncryptedBatch.from_dict(b), ctx=ctx, audit=audit, actor="cli").to_dict() for b in items]
    _write_json({"scores": scored}, out, overwrite)
    err.print(f"scored {sum(s['rows'] for s in scored):,} encrypted records")


@he_app.command("decrypt")
def decrypt_cmd(
    scores: Annotated[Path, typer.Argument(help="Encrypted scores from veil he score.")],
    context: Annotated[Path, typer.Option(help="The client's context (with its secret key).")],
    out: Annotated[str, typer.Option("--out", help="Scores and predictions (CSV).")],
    overwrite: OverwriteOpt = False,
) -> None:
    """Decrypt the scores (the client's side): probability and predicted class per record."""
    from veil.learn.he.params import Keys
    from veil.learn.he.scoring import EncryptedScores, decrypt

    ctx = Keys.from_bytes(_read(context))
    items = _listed(scores, "scores", "veil he score")
    with atomic_output(out, overwrite=overwrite) as fh:
        fh.write("score,prediction\n")
        for item in items:
            for v in decrypt(ctx, EncryptedScores.from_dict(item)):
                fh.write(f"{v:.6f},{int(v > 0.5)}\n")
