"""Optional extras: check that what a feature needs is installed before it starts."""

from __future__ import annotations

from collections.abc import Iterable

from veil.errors import InputError, MissingExtraError


def require(extra: str, *modules: str) -> None:
    """Raise MissingExtraError naming ``veil[extra]`` and the first missing module."""
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            raise MissingExtraError(extra, module) from None


def require_columns(columns: Iterable[str], wanted: Iterable[str | None]) -> None:
    """Raise InputError naming every wanted column that is not among ``columns``."""
    have = list(columns)
    missing = [c for c in wanted if c is not None and c not in have]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise InputError(f"no column named {names} (columns: {', '.join(have)})")
