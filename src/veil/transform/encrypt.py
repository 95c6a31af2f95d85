"""encrypt: reversible encryption under the scope's vault key.

``deterministic: true`` (default) uses AES-SIV, so equal values give equal ciphertexts (joins and group-bys
still work); ``false`` uses AES-256-GCM with a random nonce. Output: ``enc:`` + base64url; ``restore`` decrypts.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from veil.errors import IntegrityError
from veil.transform.base import Operator, OperatorParams, TransformContext, register

PREFIX = "enc:"
# "enc:..." on its own, or "<enc:...>" where text around it would otherwise run into the token.
FINDER = re.compile(r"<enc:[A-Za-z0-9_\-]{16,}>|(?<![\w:])enc:[A-Za-z0-9_\-]{16,}")
_GCM, _SIV = b"\x01", b"\x02"


class NotEncrypted(IntegrityError):
    """Text that looks like an ``enc:`` token but is none of Veil's (no version byte): it stays as written."""


class EncryptParams(OperatorParams):
    deterministic: bool = True


def _aad(ctx: TransformContext) -> bytes:
    return b"veil-enc\x1f" + ctx.scope.encode()


@register
class Encrypt(Operator):
    name = "encrypt"
    Params = EncryptParams
    reversible = True

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        assert isinstance(self.params, EncryptParams)
        keys = ctx.require_vault(self.name).scope_keys(ctx.scope)
        aad = _aad(ctx)
        out = []
        for v in values:
            data = v.encode("utf-8", "surrogatepass")
            if self.params.deterministic:
                blob = _SIV + keys.encrypt_deterministic(data, aad)
            else:
                blob = _GCM + keys.encrypt(data, aad)
            out.append(PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("="))
        return out


def decrypt(token: str, ctx: TransformContext) -> str:
    """The plaintext of an ``enc:`` token made by :class:`Encrypt` in ``ctx.scope``."""
    token = token.strip("<>")
    body = token[len(PREFIX) :] if token.startswith(PREFIX) else token
    try:
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise NotEncrypted("not an encrypted token") from None
    keys = ctx.require_vault("encrypt").scope_keys(ctx.scope)
    aad = _aad(ctx)
    if blob[:1] == _SIV:
        data = keys.decrypt_deterministic(blob[1:], aad)
    elif blob[:1] == _GCM:
        data = keys.decrypt(blob[1:], aad)
    else:
        raise NotEncrypted("unknown encrypted token version")
    return data.decode("utf-8", "surrogatepass")
