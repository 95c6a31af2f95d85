"""Multi-pattern prefilter: one hyperscan pass tells which patterns can match a text.

Every recognizer pattern is compiled into one hyperscan database in PREFILTER mode, which guarantees a
superset of the real matches (lookarounds are dropped, backreferences are expanded to their group). Only
the patterns the prefilter reports are then run with Python's ``re``, so results are exactly those of
``re`` while the text is scanned once at SIMD speed.

Two databases keep that guarantee for every input: ASCII text (the common case) uses one compiled with
ASCII classes, any other text one compiled with Unicode classes (UCP: ``\\d`` matches "０" as Python's
does), built on first need. Patterns hyperscan cannot compile, and texts that cannot be encoded (lone
surrogates), fall back to running the patterns directly. Compiled databases are cached on disk
(``$VEIL_CACHE_DIR`` or ``~/.cache/veil``), keyed by a hash of the patterns, flags and hyperscan version.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veil.detect.regex_tools import expand_backreferences

log = logging.getLogger(__name__)

_hs: Any
try:  # hyperscan is a core dependency, but a platform without wheels still works (slower)
    import hyperscan as _hs
except ImportError:  # pragma: no cover - exercised only where hyperscan has no wheel
    _hs = None


def _cache_dir() -> Path:
    return Path(os.environ.get("VEIL_CACHE_DIR") or Path.home() / ".cache" / "veil")


@dataclass
class _Compiled:
    db: Any
    always: frozenset[int]


class Prefilter:
    """Which of ``patterns`` (``(regex, ignorecase)`` pairs) may match a text."""

    def __init__(self, patterns: Sequence[tuple[str, bool]], *, enabled: bool = True) -> None:
        self.size = len(patterns)
        self._everything = frozenset(range(self.size))
        self._exprs = [expand_backreferences(regex).encode() for regex, _ in patterns]
        self._caseless = [ignorecase for _, ignorecase in patterns]
        self._active = _hs is not None and bool(patterns) and enabled
        self._ascii: _Compiled | None = self._build(unicode=False) if self._active else None
        self._unicode: _Compiled | None = None

    @property
    def always(self) -> frozenset[int]:
        """Patterns that run on every ASCII text (not compilable by hyperscan)."""
        return self._ascii.always if self._ascii is not None else self._everything

    def _build(self, *, unicode: bool) -> _Compiled:
        base = _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_UTF8 | _hs.HS_FLAG_MULTILINE | _hs.HS_FLAG_ALLOWEMPTY
        base |= _hs.HS_FLAG_SINGLEMATCH | (_hs.HS_FLAG_UCP if unicode else 0)
        flags = [base | (_hs.HS_FLAG_CASELESS if c else 0) for c in self._caseless]
        version = getattr(_hs, "__version__", "?")
        key = hashlib.sha256(repr((self._exprs, flags, version)).encode()).hexdigest()[:32]
        cached = _load(key)
        if cached is not None:
            return cached
        failed = {i for i, (e, f) in enumerate(zip(self._exprs, flags, strict=True)) if not _compiles(e, f)}
        keep = [i for i in range(self.size) if i not in failed]
        db = None
        if keep:
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            db.compile(expressions=[self._exprs[i] for i in keep], ids=keep, elements=len(keep),
                       flags=[flags[i] for i in keep])  # fmt: skip
            _store(key, db, failed)
        if failed:
            log.info("hyperscan prefilter: %d pattern(s) always run: %s", len(failed), sorted(failed))
        return _Compiled(db, frozenset(failed) if db is not None else self._everything)

    def candidates(self, text: str) -> set[int]:
        """Indices of the patterns that may match ``text`` (always a superset of the real matches)."""
        if not self._active:
            return set(self._everything)
        if text.isascii():
            compiled = self._ascii
        else:
            if self._unicode is None:
                self._unicode = self._build(unicode=True)
            compiled = self._unicode
        assert compiled is not None
        if compiled.db is None:
            return set(compiled.always)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: cannot prefilter, run everything
            return set(self._everything)
        found = set(compiled.always)
        compiled.db.scan(data, match_event_handler=_collect, context=found)
        return found


def _collect(pattern_id: int, start: int, end: int, flags: int, found: set[int]) -> None:
    found.add(pattern_id)


def _compiles(expr: bytes, flag: int) -> bool:
    try:
        _hs.Database(mode=_hs.HS_MODE_BLOCK).compile(expressions=[expr], ids=[0], elements=1, flags=[flag])
    except _hs.error:
        return False
    return True


def _load(key: str) -> _Compiled | None:
    path = _cache_dir() / f"prefilter-{key}.hsdb"
    try:
        raw = path.read_bytes()
        failed = frozenset(int(x) for x in path.with_suffix(".failed").read_text().split())
        db = _hs.loadb(raw, mode=_hs.HS_MODE_BLOCK)
        db.scratch = _hs.Scratch(db)  # a deserialized database has no scratch space yet
    except (OSError, ValueError, _hs.error):
        return None
    return _Compiled(db, failed)


def _store(key: str, db: Any, failed: set[int]) -> None:
    path = _cache_dir() / f"prefilter-{key}.hsdb"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".failed").write_text(" ".join(map(str, sorted(failed))))
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(_hs.dumpb(db))
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home is fine: we just compile next time too
        log.debug("could not cache the prefilter database: %s", exc)
