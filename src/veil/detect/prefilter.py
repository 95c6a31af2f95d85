"""Multi-pattern prefilter: one hyperscan pass tells which patterns can match a text.

Every recognizer pattern is compiled into one hyperscan database in PREFILTER mode, which guarantees a
superset of the real matches (lookarounds are dropped, backreferences are expanded to their group). Only
the patterns the prefilter reports are then run with Python's ``re``, so results are exactly those of
``re`` while most of the text is scanned once at SIMD speed. Patterns hyperscan cannot compile, and texts
that cannot be encoded (lone surrogates), fall back to running the patterns directly.

The compiled database is cached on disk (``$VEIL_CACHE_DIR`` or ``~/.cache/veil``), keyed by a hash of the
patterns and the hyperscan version, so only the first start pays the compile time.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
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


class Prefilter:
    """Which of ``patterns`` (``(regex, ignorecase)`` pairs) may match a text."""

    def __init__(self, patterns: Sequence[tuple[str, bool]], *, enabled: bool = True) -> None:
        self.size = len(patterns)
        self.always: frozenset[int] = frozenset()
        self._db: Any = None
        if _hs is None or not patterns or not enabled:
            self.always = frozenset(range(self.size))
            return
        base = _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_UTF8 | _hs.HS_FLAG_MULTILINE | _hs.HS_FLAG_ALLOWEMPTY
        base |= _hs.HS_FLAG_SINGLEMATCH
        exprs: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        failed: set[int] = set()
        for i, (regex, ignorecase) in enumerate(patterns):
            expr = expand_backreferences(regex).encode()
            flag = base | (_hs.HS_FLAG_CASELESS if ignorecase else 0)
            exprs.append(expr)
            ids.append(i)
            flags.append(flag)
        key = hashlib.sha256(repr((exprs, flags, getattr(_hs, "__version__", "?"))).encode()).hexdigest()[:32]
        loaded = self._load(key)
        if loaded is not None:
            self._db, failed = loaded
        else:
            for i, expr, flag in zip(ids, exprs, flags, strict=True):
                if not _compiles(expr, flag):
                    failed.add(i)
            keep = [k for k, i in enumerate(ids) if i not in failed]
            if keep:
                self._db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
                self._db.compile(
                    expressions=[exprs[k] for k in keep],
                    ids=[ids[k] for k in keep],
                    elements=len(keep),
                    flags=[flags[k] for k in keep],
                )
                self._store(key, self._db, failed)
        self.always = frozenset(failed)
        if failed:
            log.info("hyperscan prefilter: %d pattern(s) always run: %s", len(failed), sorted(failed))

    @staticmethod
    def _load(key: str) -> tuple[Any, set[int]] | None:
        path = _cache_dir() / f"prefilter-{key}.hsdb"
        try:
            raw = path.read_bytes()
            failed = {int(x) for x in path.with_suffix(".failed").read_text().split()}
            db = _hs.loadb(raw, mode=_hs.HS_MODE_BLOCK)
            db.scratch = _hs.Scratch(db)  # a deserialized database has no scratch space yet
            return db, failed
        except (OSError, ValueError, _hs.error):
            return None

    @staticmethod
    def _store(key: str, db: Any, failed: set[int]) -> None:
        path = _cache_dir() / f"prefilter-{key}.hsdb"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            path.with_suffix(".failed").write_text(" ".join(map(str, sorted(failed))))
            tmp.write_bytes(_hs.dumpb(db))
            os.replace(tmp, path)
        except OSError as exc:  # a read-only home is fine: we just compile next time too
            log.debug("could not cache the prefilter database: %s", exc)

    def candidates(self, text: str) -> set[int]:
        """Indices of the patterns that may match ``text`` (always a superset of the real matches)."""
        if self._db is None:
            return set(self.always)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: cannot prefilter, run everything
            return set(range(self.size))
        found = set(self.always)
        self._db.scan(data, match_event_handler=_collect, context=found)
        return found


def _collect(pattern_id: int, start: int, end: int, flags: int, found: set[int]) -> None:
    found.add(pattern_id)


def _compiles(expr: bytes, flag: int) -> bool:
    assert _hs is not None
    try:
        _hs.Database(mode=_hs.HS_MODE_BLOCK).compile(expressions=[expr], ids=[0], elements=1, flags=[flag])
    except _hs.error:
        return False
    return True
