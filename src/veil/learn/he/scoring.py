"""Encrypted scoring with packing: the client encrypts one ciphertext per feature, its records in the slots
(4,096 records per ciphertext at N=8192); the server, holding only the public context, computes every record's
logit as a weighted sum of those ciphertexts and the degree-3 sigmoid on it, and never decrypts; the client
decrypts the scores. For a few records the ``rows`` layout packs each record's features into one ciphertext
and the server takes an encrypted dot product (rotations: the public context needs Galois keys), so one record
costs one small circuit instead of a whole batch. Ciphertexts name their context's fingerprint: one made under
another key is refused rather than scored into noise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from veil.errors import InputError
from veil.learn.he.mlp import MlpModel
from veil.learn.he.model import LinearModel
from veil.learn.he.params import Keys, b64, fingerprint, load_context, tenseal, unb64

LAYOUTS = ("columns", "rows")
ROWS_PER_BATCH = 64


@dataclass
class EncryptedBatch:
    context_id: str
    rows: int
    columns: list[bytes]  # one ciphertext per feature (columns layout) or per record (rows layout)
    layout: str = "columns"

    def to_dict(self) -> dict[str, Any]:
        return {"context_id": self.context_id, "rows": self.rows, "layout": self.layout,
                "columns": [b64(c) for c in self.columns]}  # fmt: skip

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> EncryptedBatch:
        try:
            batch = cls(str(doc["context_id"]), int(doc["rows"]), [unb64(c) for c in doc["columns"]],
                        str(doc.get("layout", "columns")))  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError("not an encrypted batch (context_id, rows, columns)") from None
        if batch.layout not in LAYOUTS or (batch.layout == "rows" and len(batch.columns) != batch.rows):
            raise InputError("an encrypted batch's layout is 'columns', or 'rows' with one ciphertext per record")
        return batch

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.columns)


@dataclass
class EncryptedScores:
    context_id: str
    rows: int
    scores: bytes  # one ciphertext with every record's score in its slots
    per_record: list[bytes] | None = None  # rows layout: one ciphertext per record, its score in slot 0

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"context_id": self.context_id, "rows": self.rows, "scores": b64(self.scores)}
        if self.per_record is not None:
            doc["per_record"] = [b64(c) for c in self.per_record]
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> EncryptedScores:
        try:
            each = doc.get("per_record")
            return cls(str(doc["context_id"]), int(doc["rows"]), unb64(doc["scores"]),
                       None if each is None else [unb64(c) for c in each])  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError("not encrypted scores (context_id, rows, scores)") from None


def model_id(model: LinearModel | MlpModel) -> str:
    return hashlib.sha256(json.dumps(model.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def encrypt(keys: Keys, x: np.ndarray, slots: int = 4096, *, layout: str = "columns") -> list[EncryptedBatch]:
    """The client's side: encoded feature rows, encrypted column by column, ``slots`` records per ciphertext
    (at most half the poly modulus degree); or, ``layout="rows"``, one ciphertext per record."""
    ts = tenseal()
    ctx, cid = keys.ctx, keys.id
    out = []
    if layout not in LAYOUTS:
        raise InputError(f"the layout is one of {', '.join(LAYOUTS)}, not '{layout}'")
    if layout == "rows":
        if not ctx.has_galois_keys():
            raise InputError("the rows layout needs rotation keys: make keys with veil he keys --rotations")
        for start in range(0, len(x), ROWS_PER_BATCH):
            chunk = x[start : start + ROWS_PER_BATCH]
            out.append(EncryptedBatch(cid, len(chunk), [ts.ckks_vector(ctx, r.tolist()).serialize() for r in chunk],
                                      "rows"))  # fmt: skip
        return out
    for start in range(0, len(x), slots):
        chunk = x[start : start + slots]
        cols = [ts.ckks_vector(ctx, chunk[:, j].tolist()).serialize() for j in range(x.shape[1])]
        out.append(EncryptedBatch(cid, len(chunk), cols))
    return out


def score(public: bytes, model: LinearModel | MlpModel, batch: EncryptedBatch, *, audit: Any = None,
          actor: str = "local", ctx: Any = None) -> EncryptedScores:  # fmt: skip
    """The server's side: scores computed on ciphertexts (no secret key anywhere on this side)."""
    ts = tenseal()
    if batch.context_id != fingerprint(public):
        raise InputError("the ciphertexts were made under another context (its fingerprint does not match)")
    context = ctx if ctx is not None else load_context(public, server=True)
    if batch.layout == "rows":
        return _score_rows(context, model, batch, audit, actor)
    if len(batch.columns) != len(model.weights):
        raise InputError(f"the batch has {len(batch.columns)} feature columns, the model {len(model.weights)}")
    try:
        vecs = [ts.ckks_vector_from(context, col) for col in batch.columns]
    except Exception:
        raise InputError("a ciphertext cannot be read under this context") from None
    try:
        t = _mlp_logit(model, vecs) if isinstance(model, MlpModel) else _linear_logit(model, vecs)
        c0, c1, c3 = model.poly
        out = (t * c3) * (t * t) + t * c1 + c0
    except ValueError:
        raise InputError(f"the context has too few levels for this model (depth {model.depth}); "
                         f"make keys with: veil he keys {_KEYS_HINT[model.depth]}") from None
    if audit is not None:
        audit.append(actor, "he.score", records=batch.rows, context=batch.context_id, model=model_id(model))
    return EncryptedScores(batch.context_id, batch.rows, out.serialize())


def _score_rows(context: Any, model: LinearModel | MlpModel, batch: EncryptedBatch, audit: Any,
                actor: str) -> EncryptedScores:  # fmt: skip
    """One record per ciphertext: t = <x, w / R> + b / R by an encrypted dot product, then the cubic."""
    ts = tenseal()
    if not isinstance(model, LinearModel):
        raise InputError("the rows layout scores the logistic regression; encrypt an MLP's records as columns")
    if not context.has_galois_keys():
        raise InputError("the public context has no rotation keys: the rows layout needs veil he keys --rotations")
    w = (model.weights / model.radius).tolist()
    c0, c1, c3 = model.poly
    out = []
    for record in batch.columns:
        try:
            v = ts.ckks_vector_from(context, record)
            t = v.dot(w) + model.bias / model.radius
        except Exception:
            raise InputError("a record's ciphertext cannot be read under this context or has the wrong width") from None
        out.append(((t * c3) * (t * t) + t * c1 + c0).serialize())
    if audit is not None:
        audit.append(actor, "he.score", records=batch.rows, context=batch.context_id, model=model_id(model),
                     layout="rows")  # fmt: skip
    return EncryptedScores(batch.context_id, batch.rows, b"", out)


_KEYS_HINT = {3: "(the defaults)", 5: "--poly 16384 --moduli 60,40,40,40,40,40,60 --scale 40"}


def _linear_logit(model: LinearModel, vecs: list[Any]) -> Any:
    """w.x / R + b / R: one rescaling."""
    r, t = model.radius, None
    for v, w in zip(vecs, model.weights, strict=True):
        if w != 0:
            term = v * float(w / r)
            t = term if t is None else t + term
    if t is None:
        raise InputError("the model has no weights")
    return t + model.bias / r


def _mlp_logit(model: MlpModel, vecs: list[Any]) -> Any:
    """((x W1 + b1)^2) . w2 / R + b2 / R: three rescalings."""
    r, t = model.radius, None
    for j in range(model.w1.shape[1]):
        a = None
        for v, w in zip(vecs, model.w1[:, j], strict=True):
            if w != 0:
                term = v * float(w)
                a = term if a is None else a + term
        if a is None:
            continue
        a = a + float(model.b1[j])
        term = (a * a) * float(model.w2[j] / r)
        t = term if t is None else t + term
    if t is None:
        raise InputError("the model has no weights")
    return t + model.b2 / r


def decrypt(keys: Keys, scores: EncryptedScores) -> np.ndarray:
    """The client's side: the scores of the batch's records."""
    ts = tenseal()
    ctx = keys.ctx
    if not ctx.is_private():
        raise InputError("decrypting needs the client's context with its secret key")
    if scores.context_id != keys.id:
        raise InputError("these scores were computed for another context")
    if scores.per_record is not None:
        try:
            return np.asarray([ts.ckks_vector_from(ctx, c).decrypt()[0] for c in scores.per_record])
        except Exception:
            raise InputError("the scores cannot be read under this context") from None
    try:
        vec = ts.ckks_vector_from(ctx, scores.scores)
    except Exception:
        raise InputError("the scores cannot be read under this context") from None
    return np.asarray(vec.decrypt()[: scores.rows])
