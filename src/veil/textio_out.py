"""Atomic output: write to a temporary file beside the target, rename into place only on success.

Every command that writes a file goes through :func:`check_target` first: the target must be a regular file or
not exist (a symbolic link, a device such as ``/dev/null``, a pipe or a socket is refused, even with
``--overwrite``, so Veil never replaces one with a regular file), must not be one of the command's inputs, and
an existing file is replaced only with ``--overwrite``. Temporary files are named after the process that owns
them (``.<name>.<host>_<pid>-<random>.tmp``): one left by a process that was killed is removed by the next run.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from veil.errors import InputError


def owner_tag() -> str:
    """This process, as temporaries name their owner: a short hash of the host name and the process id."""
    host = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
    return f"{host}_{os.getpid()}"


def owner_gone(tag: str) -> bool:
    """True when ``tag`` names a process of this host that no longer runs (its temporaries can go)."""
    host, _, pid = tag.partition("_")
    if host != owner_tag().partition("_")[0] or not pid.isdigit():
        return False  # another machine's (a shared database): never ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sweep_stale(path: Path) -> int:
    """Remove temporaries of ``path`` left by processes that died (kill -9, power loss); returns how many."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.([0-9a-f]{{6}}_\d+)-[\w]+\.tmp")
    removed = 0
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return 0
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and owner_gone(m.group(1)) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def check_target(target: str | Path, *, overwrite: bool, inputs: Sequence[str | Path] = ()) -> Path:
    """``target`` as a path Veil may write: refused (with the reason) when it must not be replaced."""
    path = Path(target)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{path}: cannot be written: {exc.strerror}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise InputError(f"{path}: is a symbolic link; Veil writes only regular files",
                             hint="name the file itself, or write to standard output")  # fmt: skip
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{path}: is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: is not a regular file (a device, pipe or socket)",
                             hint="write to a file, or to standard output")  # fmt: skip
        for source in inputs:
            if str(source) != "-" and _same_file(source, path):
                raise InputError(f"{path}: the output is the input", hint="write to another file")
        if not overwrite:
            raise InputError(f"{path}: the file exists", hint="give --overwrite to replace it")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    return path


def _same_file(a: str | Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def temp_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file in ``path``'s folder (same file system, so a rename replaces ``path`` atomically);
    ``path`` has passed :func:`check_target`."""
    sweep_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{owner_tag()}-", suffix=".tmp", dir=path.parent)
    return fd, Path(tmp)


@contextmanager
def atomic_output(
    target: str | None, *, overwrite: bool = False, inputs: Sequence[str | Path] = ()
) -> Iterator[TextIO]:
    """Standard output when ``target`` is None or "-", else a temp file renamed to ``target`` on success."""
    if target in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    path = check_target(target, overwrite=overwrite, inputs=inputs)
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
