"""Reading text inputs of any size as blocks with their character offsets."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from veil.errors import InputError

BLOCK_CHARS = 1 << 16


def blocks(stream: TextIO, block_chars: int = BLOCK_CHARS) -> Iterator[tuple[int, str]]:
    """``(offset, text)`` blocks of about ``block_chars``, cut after a blank line when possible (else a line).

    Cutting at blank lines keeps multi-line values (PEM key blocks, addresses) inside one block.
    """
    offset = 0
    pending = ""
    while True:
        data = stream.read(block_chars)
        if not data:
            break
        pending += data
        if len(pending) < block_chars:
            continue
        cut = pending.rfind("\n\n", 0, len(pending) - 1)
        cut = pending.rfind("\n", 0, len(pending) - 1) if cut < len(pending) // 4 else cut + 1
        if cut <= 0:
            continue  # one very long line: keep reading until it ends
        yield offset, pending[: cut + 1]
        offset += cut + 1
        pending = pending[cut + 1 :]
    if pending:
        yield offset, pending


def open_text(source: str) -> TextIO:
    """Open ``source`` ("-" for stdin) for reading UTF-8 text; a clear error if it cannot be read."""
    if source == "-":
        return sys.stdin
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{source}: is a directory, not a file")
    try:
        return path.open(encoding="utf-8", errors="strict", newline="")
    except OSError as exc:
        raise InputError(f"{source}: cannot open: {exc.strerror}") from None


def read_blocks(source: str, block_chars: int = BLOCK_CHARS) -> Iterator[tuple[int, str]]:
    stream = open_text(source)
    try:
        yield from blocks(stream, block_chars)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at byte offset {exc.start} of a "
            "read block)",
            hint="convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8",
        ) from None
    finally:
        if stream is not sys.stdin:
            stream.close()


def mask(value: str, keep: int = 2) -> str:
    """A display form that shows only the first and last ``keep`` characters."""
    if len(value) <= 2 * keep + 2:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def shape(value: object, limit: int = 24) -> str:
    """What a value looks like without what it is, for error messages: digits 9, letters A/a, the rest as is."""
    text = str(value)
    out = "".join("9" if c.isdigit() else ("A" if c.isupper() else "a") if c.isalpha() else c for c in text[:limit])
    return out + ("..." if len(text) > limit else "")
