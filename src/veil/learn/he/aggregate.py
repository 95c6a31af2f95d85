"""Encrypted aggregation across parties (the SMPC-style use): every party encrypts its vector under the key
holder's public context, an aggregator that holds no secret key adds the ciphertexts, and only the key holder
decrypts, and only the total. Parties never see each other's values; the aggregator sees none. (The aggregator
and the key holder must not collude: together they could decrypt one party's ciphertext.)"""

from __future__ import annotations

from typing import Any

from veil.errors import InputError
from veil.learn.he.params import Keys, fingerprint, load_context, tenseal


def contribute(public: bytes, values: list[float]) -> tuple[str, bytes]:
    """A party's share: its values encrypted under the public context (no secret key needed)."""
    ts = tenseal()
    ctx = load_context(public, server=True)
    return fingerprint(public), ts.ckks_vector(ctx, [float(v) for v in values]).serialize()


def add(public: bytes, shares: list[tuple[str, bytes]], *, audit: Any = None, actor: str = "local") -> bytes:
    """The aggregator: the sum of the parties' ciphertexts, still encrypted."""
    ts = tenseal()
    if not shares:
        raise InputError("nothing to aggregate")
    cid = fingerprint(public)
    if any(s[0] != cid for s in shares):
        raise InputError("a share was encrypted under another context")
    ctx = load_context(public, server=True)
    total = None
    for _cid, blob in shares:
        try:
            v = ts.ckks_vector_from(ctx, blob)
        except Exception:
            raise InputError("a share cannot be read under this context") from None
        total = v if total is None else total + v
    if audit is not None:
        audit.append(actor, "he.aggregate", parties=len(shares), context=cid)
    assert total is not None
    data: bytes = total.serialize()
    return data


def reveal(keys: Keys, total: bytes, parties: int, *, mean: bool = False) -> list[float]:
    """The key holder: the decrypted sum (or mean over ``parties``)."""
    ts = tenseal()
    ctx = keys.ctx
    if not ctx.is_private():
        raise InputError("revealing needs the key holder's context with its secret key")
    values = ts.ckks_vector_from(ctx, total).decrypt()
    return [v / parties for v in values] if mean else list(values)
