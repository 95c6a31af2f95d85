"""Atomic output: write to a temporary file beside the target, rename into place only on success."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from veil.errors import InputError


def temp_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file in ``path``'s folder (same file system, so a rename replaces ``path`` atomically)."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory")
    if not path.parent.exists():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return fd, Path(tmp)


@contextmanager
def atomic_output(target: str | None) -> Iterator[TextIO]:
    """Standard output when ``target`` is None or "-", else a temp file renamed to ``target`` on success."""
    if target in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
