"""CKKS parameters, checked before a key is made; contexts made, serialized and identified.

Security follows the Homomorphic Encryption Standard (homomorphicencryption.org, 2018) for 128-bit classical
security with a ternary secret: the coefficient modulus may have at most 109 bits at N=4096, 218 at 8192, 438 at
16384 and 881 at 32768. A parameter set beyond that is refused, as is one whose scale does not fit its middle
primes or whose levels are too few for the circuit asked of it.

The default (N=8192, moduli 40-30-30-30-40 bits, scale 2^30, 170 bits) gives 4,096 slots and three levels: the
weighted sum of the features and the degree-3 sigmoid need exactly three rescalings. The first prime (40 bits)
leaves 10 bits above the scale for the values' integer part (logits and scores are small numbers).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from veil.errors import ConfigError, InputError, MissingExtraError

MAX_BITS_128 = {4096: 109, 8192: 218, 16384: 438, 32768: 881}


def tenseal() -> Any:
    try:
        import tenseal as ts
    except ModuleNotFoundError:
        raise MissingExtraError("he", "tenseal") from None
    return ts


@dataclass(frozen=True)
class CkksParams:
    poly_modulus_degree: int = 8192
    coeff_mod_bit_sizes: tuple[int, ...] = (40, 30, 30, 30, 40)
    scale_bits: int = 30
    levels_needed: int = 3  # multiplicative depth of the circuit the context must carry
    notes: list[str] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        n, mods = self.poly_modulus_degree, self.coeff_mod_bit_sizes
        if n not in MAX_BITS_128:
            raise ConfigError(f"poly modulus degree must be one of {sorted(MAX_BITS_128)}, not {n}")
        if sum(mods) > MAX_BITS_128[n]:
            raise ConfigError(
                f"insecure CKKS parameters: {sum(mods)} bits of coefficient modulus at N={n} is above the "
                f"{MAX_BITS_128[n]} bits that keep 128-bit security (HE Standard)",
                hint="use fewer or smaller primes, or a larger poly modulus degree",
            )
        if len(mods) < 3 or any(not 20 <= b <= 60 for b in mods):
            raise ConfigError("the coefficient modulus needs at least 3 primes of 20..60 bits")
        middle = mods[1:-1]
        if any(b != self.scale_bits for b in middle):
            raise ConfigError(f"the middle primes ({list(middle)}) must each have the scale's {self.scale_bits} bits")
        if mods[0] <= self.scale_bits:
            raise ConfigError("the first prime must be larger than the scale (room for the integer part)")
        if len(middle) < self.levels_needed:
            raise ConfigError(f"{len(middle)} levels are too few for a circuit of depth {self.levels_needed}")

    @property
    def slots(self) -> int:
        return self.poly_modulus_degree // 2

    def describe(self) -> dict[str, Any]:
        return {"poly_modulus_degree": self.poly_modulus_degree, "coeff_mod_bit_sizes": list(self.coeff_mod_bit_sizes),
                "scale": f"2^{self.scale_bits}", "bits": sum(self.coeff_mod_bit_sizes),
                "max_bits_128": MAX_BITS_128[self.poly_modulus_degree], "slots": self.slots,
                "levels": len(self.coeff_mod_bit_sizes) - 2, "security": "128-bit (HE Standard)"}  # fmt: skip


def make_context(params: CkksParams | None = None) -> Any:
    """A new client context: secret key, public key and relinearization keys (what a client makes)."""
    ts = tenseal()
    p = params or CkksParams()
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=p.poly_modulus_degree,
                     coeff_mod_bit_sizes=list(p.coeff_mod_bit_sizes))  # fmt: skip
    ctx.global_scale = 2**p.scale_bits
    return ctx


@dataclass
class Keys:
    """A client's context (secret key included), its public serialization and that public context's id.

    The id is fixed when the keys are made: TenSEAL does not serialize a context to the same bytes twice, so an
    id taken later from a reloaded context would not match the one the server computed from the file it got."""

    ctx: Any
    public: bytes
    id: str

    def to_bytes(self) -> bytes:
        """The client's key file: a header naming the public context's id, then the full context."""
        return MAGIC + self.id.encode() + b"\n" + secret_bytes(self.ctx)

    @classmethod
    def from_bytes(cls, data: bytes) -> Keys:
        if not data.startswith(MAGIC):
            raise InputError("not a Veil client key file (veil he keys writes one)")
        head, _, rest = data[len(MAGIC) :].partition(b"\n")
        ctx = load_context(rest)
        if not ctx.is_private():
            raise InputError("this key file holds no secret key")
        return cls(ctx, b"", head.decode("ascii", "replace"))


MAGIC = b"VEIL-HE-KEYS-1\n"


def make_keys(params: CkksParams | None = None, *, rotations: bool = False) -> Keys:
    """``rotations`` adds Galois keys to the public context (a larger file): the server can then score a record
    packed in one ciphertext (an encrypted dot product), the fast way for a few records."""
    ctx = make_context(params)
    if rotations:
        ctx.generate_galois_keys()
    public = public_bytes(ctx)
    return Keys(ctx, public, fingerprint(public))


def public_bytes(ctx: Any) -> bytes:
    """The context without its secret key: what the server gets."""
    data: bytes = ctx.serialize(save_public_key=True, save_secret_key=False, save_galois_keys=ctx.has_galois_keys(),
                                save_relin_keys=True)  # fmt: skip
    return data


def secret_bytes(ctx: Any) -> bytes:
    data: bytes = ctx.serialize(save_secret_key=True)
    return data


def load_context(data: bytes, *, server: bool = False) -> Any:
    """A context from bytes; on the server side one holding a secret key is refused (it must never be sent)."""
    ts = tenseal()
    if data.startswith(MAGIC):
        raise InputError("this is a client key file: it holds the secret key (give the server the public context)")
    try:
        ctx = ts.context_from(data)
    except Exception:
        raise InputError("not a TenSEAL CKKS context (corrupt or another format)") from None
    if server and ctx.is_private():
        raise InputError("this context holds the secret key: a client sends the public context only")
    return ctx


def fingerprint(public: bytes) -> str:
    """An id of a public context: ciphertexts name it, so one made under another key is refused."""
    return hashlib.sha256(public).hexdigest()[:16]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InputError("a ciphertext is not valid base64") from None
