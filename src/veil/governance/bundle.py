"""The access / portability bundle: one zip of JSON and CSV per table, the subject's tokens, consent history and
the audit records about them. Written to a temporary file beside the target and renamed into place (mode 0600),
so a reader never sees half a bundle and a crash leaves none."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from veil.errors import OutputError
from veil.textio_out import temp_beside

README = """This archive holds the personal data {controller} keeps about you, as of {generated}.

request.json   the request this answers
data/          one JSON and one CSV file per table that holds data about you, per source
tokens.json    pseudonyms ("tokens") that stand for your data in other systems, with the values they stand for
consent.json   every consent you gave or withdrew, with the notice version you were shown
audit.json     the records of what was done with your data (who, when, what)
"""


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _member(name: str) -> str:
    """A name safe as one zip path segment: a table called ``../../x`` must not escape where the bundle is opened."""
    safe = re.sub(r"[^A-Za-z0-9_$-]", "_", name)
    return safe or "_"


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    names = list(rows[0]) if rows else []
    writer = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _plain(v) for k, v in r.items()})
    return buf.getvalue()


def _fill(zf: zipfile.ZipFile, contents: dict[str, Any], tables: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    zf.writestr("README.txt", README.format(**contents["readme"]))
    for name in ("request", "tokens", "consent", "audit"):
        zf.writestr(f"{name}.json", json.dumps(contents[name], indent=2, ensure_ascii=False, default=str))
    for source, by_table in sorted(tables.items()):
        for table, rows in sorted(by_table.items()):
            source, table = _member(source), _member(table)
            plain = [{k: _plain(v) for k, v in r.items()} for r in rows]
            zf.writestr(f"data/{source}/{table}.json", json.dumps(plain, indent=2, ensure_ascii=False))
            zf.writestr(f"data/{source}/{table}.csv", _csv(rows))


def write_bundle(path: Path, contents: dict[str, Any], tables: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    """Write the bundle atomically; returns its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = temp_beside(path)  # mode 0600; a killed writer's leftovers are swept
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                _fill(zf, contents, tables)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write the bundle {path}: {exc.strerror or type(exc).__name__}") from None
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    return hashlib.sha256(path.read_bytes()).hexdigest()
