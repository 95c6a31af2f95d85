"""Key hierarchy: a key-encryption key (KEK) from outside the database wraps per-scope data keys (DEKs).

The KEK comes from ``VEIL_MASTER_KEY`` (base64 or hex, 32 bytes), or the file named by ``VEIL_KEY_FILE``,
or ``$VEIL_HOME/master.key`` (created with mode 0600 on first use of a local vault). It is never stored in the
database. Each DEK is 32 random bytes wrapped with AES-256-GCM under the KEK (the scope and subject are the
associated data, so a wrapped key cannot be moved to another scope). From a DEK, HKDF derives separate keys
for value encryption, lookups, the hash operator and deterministic encryption.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from veil.errors import ConfigError, IntegrityError
from veil.storage.engine import veil_home

log = logging.getLogger(__name__)
KEY_BYTES = 32


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random 96-bit nonce: ``nonce || ciphertext || tag``."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes, failure: str) -> bytes:
    """The plaintext of :func:`seal`'s output; an :class:`IntegrityError` saying ``failure`` if it does not verify."""
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], aad)
    except InvalidTag:
        raise IntegrityError(failure) from None


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key and its public identifier (first 16 hex chars of its SHA-256)."""

    key: bytes
    source: str

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise ConfigError(f"the master key from {self.source} must be {KEY_BYTES} bytes, not {len(self.key)}")

    @property
    def kek_id(self) -> str:
        return hashlib.sha256(b"veil-kek-id" + self.key).hexdigest()[:16]

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        return seal(self.key, dek, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        return open_sealed(
            self.key,
            wrapped,
            aad,
            "a data key could not be unwrapped: wrong master key, or the key record was tampered with",
        )

    @staticmethod
    def generate() -> bytes:
        return secrets.token_bytes(KEY_BYTES)

    @staticmethod
    def encode(key: bytes) -> str:
        return base64.urlsafe_b64encode(key).decode()


def _decode(text: str, source: str) -> bytes:
    text = text.strip()
    try:
        if len(text) == 2 * KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in text):
            return bytes.fromhex(text)
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise ConfigError(f"the master key in {source} is neither base64 nor hex") from None


def load_master_key(*, create: bool = True) -> MasterKey:
    """The KEK from the environment or key file; a new key file is created for a local vault if allowed."""
    if value := os.environ.get("VEIL_MASTER_KEY"):
        return MasterKey(_decode(value, "VEIL_MASTER_KEY"), "VEIL_MASTER_KEY")
    named = os.environ.get("VEIL_KEY_FILE")
    path = Path(named or veil_home() / "master.key")
    if path.exists():
        return read_key_file(path)
    if named:  # a key file named on purpose and missing is a typo, never a reason to mint a new key
        raise ConfigError(f"VEIL_KEY_FILE names {path}, which does not exist", hint="fix the path, or veil keys init")
    if not create:
        raise ConfigError(f"no master key: set VEIL_MASTER_KEY or create {path}", hint="veil keys init")
    key = write_key_file(path)
    log.warning("created a new master key in %s: back it up and keep it away from the database", path)
    return key


def load_previous_keys() -> list[MasterKey]:
    """Older master keys still accepted for unwrapping during a rotation (``VEIL_MASTER_KEY_PREVIOUS``)."""
    value = os.environ.get("VEIL_MASTER_KEY_PREVIOUS", "")
    return [
        MasterKey(_decode(v, "VEIL_MASTER_KEY_PREVIOUS"), "VEIL_MASTER_KEY_PREVIOUS")
        for v in value.split(",")
        if v.strip()
    ]


def read_key_file(path: str | Path) -> MasterKey:
    p = Path(path)
    try:
        return MasterKey(_decode(p.read_text(encoding="utf-8"), str(p)), str(p))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a Veil key file (binary content)", hint="veil keys init writes one") from None
    except FileNotFoundError:
        raise ConfigError(f"key file not found: {p}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the key file {p}: {exc.strerror}") from None


def write_key_file(path: str | Path) -> MasterKey:
    """A new random master key in a new file (mode 0600); refuses to overwrite."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    key = MasterKey.generate()
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{p} exists: a key file is never overwritten") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(MasterKey.encode(key) + "\n")
    return MasterKey(key, str(p))


@dataclass(frozen=True)
class ScopeKeys:
    """Keys derived from one data key."""

    encryption: bytes  # AES-256-GCM for stored values
    lookup: bytes  # HMAC key for equality lookups of tokenized values
    hashing: bytes  # HMAC key for the hash operator and fakes
    siv: bytes  # AES-SIV (512-bit) for deterministic encryption

    @classmethod
    def derive(cls, dek: bytes) -> ScopeKeys:
        def hkdf(info: bytes, length: int = 32) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(dek)

        return cls(hkdf(b"veil/encryption"), hkdf(b"veil/lookup"), hkdf(b"veil/hash"), hkdf(b"veil/siv", 64))

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        return seal(self.encryption, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        return open_sealed(
            self.encryption, blob, aad, "a stored value failed authentication: wrong key or tampered ciphertext"
        )

    def encrypt_deterministic(self, plaintext: bytes, aad: bytes) -> bytes:
        return AESSIV(self.siv).encrypt(plaintext, [aad])

    def decrypt_deterministic(self, blob: bytes, aad: bytes) -> bytes:
        try:
            return AESSIV(self.siv).decrypt(blob, [aad])
        except InvalidTag:
            raise IntegrityError("a ciphertext failed authentication: wrong key or tampered data") from None
