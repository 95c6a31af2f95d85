"""Generalization hierarchies: a column's values and what they become at each level, up to ``*``.

A hierarchy answers one question: for the distinct values of a column, give their labels at levels 0 (the value
itself) .. top (``*``, suppressed). Four kinds:

- :class:`TableHierarchy`: an explicit table, from ARX's CSV format (one row per value, ``;``-separated, no header)
  or a user mapping (value -> [level 1, level 2, ...]); every value of the data must appear in it.
- :class:`IntervalHierarchy`: numbers to intervals of growing width (``[20, 25)``, ``[20, 30)``, ...).
- :class:`DateHierarchy`: ISO dates to month, year (and optionally decade).
- :class:`PrefixHierarchy`: codes such as ZIP/postcodes, masking one more trailing character a level (``816**``).

Every level must be a function of the level below (two values that share a label keep sharing it above); tables
that break this are refused, because the search relies on it.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from veil.errors import ConfigError, InputError
from veil.textio import shape

TOP = "*"


class Hierarchy(ABC):
    """Maps the distinct values of a column to their labels at every level (level 0 is the value)."""

    @abstractmethod
    def labels(self, values: Sequence[str], column: str) -> list[tuple[str, ...]]:
        """Labels of each value, all tuples of the same length ending in ``*``."""

    def domain(self) -> list[dict[str, int]] | None:
        """Per level, how many original values each label covers, when the hierarchy knows its whole domain
        (an explicit table); None when only the data's values are known."""
        return None

    def depth(self, values: Sequence[str], column: str) -> int:
        """Number of levels (including level 0 and the top)."""
        rows = self.labels(values[:1], column) if values else [(TOP,)]
        return len(rows[0])


class TableHierarchy(Hierarchy):
    """An explicit hierarchy: value -> labels at levels 1..top."""

    def __init__(self, rows: Mapping[str, Sequence[str]], *, source: str = "hierarchy") -> None:
        if not rows:
            raise ConfigError(f"{source}: the hierarchy is empty")
        widths = {len(v) for v in rows.values()}
        if len(widths) != 1:
            raise ConfigError(f"{source}: every value needs the same number of levels (found {sorted(widths)})")
        self.source = source
        self.rows: dict[str, tuple[str, ...]] = {}
        for value, above in rows.items():
            chain = (value, *above)
            if chain[-1] != TOP and len(chain) > 1:
                chain = (*chain, TOP)
            self.rows[value] = chain if len(chain) > 1 else (value, TOP)
        _check_functional(list(self.rows.values()), source)

    @classmethod
    def from_csv(cls, path: Path | str, *, separator: str = ";") -> TableHierarchy:
        """Read ARX's format: one row per value, columns level 0 .. top, no header."""
        path = Path(path)
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                table = [row for row in csv.reader(fh, delimiter=separator) if row]
        except OSError as exc:
            raise InputError(f"{path}: cannot read the hierarchy ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: the hierarchy is not UTF-8 text") from None
        rows: dict[str, list[str]] = {}
        for number, row in enumerate(table, 1):
            if row[0] in rows and rows[row[0]] != row[1:]:
                raise ConfigError(f"{path}:{number}: this value is listed twice with different levels")
            rows[row[0]] = row[1:]
        return cls(rows, source=str(path))

    def domain(self) -> list[dict[str, int]] | None:
        depth = len(next(iter(self.rows.values())))
        out: list[dict[str, int]] = [{} for _ in range(depth)]
        for chain in self.rows.values():
            for level, label in enumerate(chain):
                out[level][label] = out[level].get(label, 0) + 1
        return out

    def labels(self, values: Sequence[str], column: str) -> list[tuple[str, ...]]:
        missing = [v for v in values if v not in self.rows]
        if missing:
            shown = ", ".join(f"'{shape(v)}'" for v in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise InputError(
                f"column '{column}': {len(missing)} value(s) are not in {self.source}: {shown}{more}",
                hint="add them to the hierarchy file or use an automatic hierarchy for this column",
            )
        return [self.rows[v] for v in values]


def _finite(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class IntervalHierarchy(Hierarchy):
    """Numbers to half-open intervals ``[lo, hi)`` of the given widths (each a multiple of the one before)."""

    def __init__(self, widths: Sequence[float] | None = None, *, origin: float = 0.0) -> None:
        if widths is not None:
            if not widths or any(w <= 0 for w in widths):
                raise ConfigError("interval widths must be positive numbers")
            for small, big in itertools.pairwise(widths):
                ratio = big / small
                if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 2:
                    raise ConfigError(f"interval width {big} is not a multiple (>= 2x) of {small}")
        self.widths = list(widths) if widths is not None else None
        self.origin = origin

    def labels(self, values: Sequence[str], column: str) -> list[tuple[str, ...]]:
        numbers = []
        for v in values:
            try:
                x = float(v)
            except (TypeError, ValueError):
                x = math.nan
            if math.isnan(x) or math.isinf(x):
                bad = [w for w in values if not _finite(w)]
                raise InputError(f"column '{column}': {len(bad)} distinct value(s) are not finite numbers, e.g. one "
                                 f"shaped '{shape(v)}' (an interval hierarchy needs numbers)")  # fmt: skip
            numbers.append(x)
        widths = self.widths or auto_widths(numbers)
        out = []
        for v, x in zip(values, numbers, strict=True):
            chain = [v]
            for w in widths:
                lo = self.origin + math.floor((x - self.origin) / w) * w
                chain.append(f"[{_num(lo)}, {_num(lo + w)})")
            chain.append(TOP)
            out.append(tuple(chain))
        return out


def auto_widths(numbers: Sequence[float]) -> list[float]:
    """About 10 bands at the first level, doubling until one band holds the whole range."""
    if not numbers:
        return [1.0]
    span = max(numbers) - min(numbers)
    if span <= 0:
        return [1.0]
    raw = span / 10
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    widths = [float(step)]
    while widths[-1] < span and len(widths) < 8:
        widths.append(widths[-1] * 2)
    return widths


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class DateHierarchy(Hierarchy):
    """ISO dates (``YYYY-MM-DD``, time part ignored) to month, year and, optionally, decade."""

    LEVELS = ("month", "year", "decade")

    def __init__(self, levels: Sequence[str] = ("month", "year")) -> None:
        unknown = [lv for lv in levels if lv not in self.LEVELS]
        if unknown or not levels:
            raise ConfigError(f"date hierarchy levels must be among {', '.join(self.LEVELS)}")
        self.levels = list(levels)

    def labels(self, values: Sequence[str], column: str) -> list[tuple[str, ...]]:
        out = []
        for v in values:
            m = _ISO.match(v or "")
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
            except ValueError:
                day = None
            if day is None:
                raise InputError(f"column '{column}': a value shaped '{shape(v)}' is not an ISO date (YYYY-MM-DD)")
            forms = {
                "month": f"{day.year:04d}-{day.month:02d}",
                "year": f"{day.year:04d}",
                "decade": f"{day.year // 10 * 10}s",
            }
            out.append((v, *(forms[lv] for lv in self.levels), TOP))
        return out


class PrefixHierarchy(Hierarchy):
    """Codes (ZIP/postcodes, IDs) masking one more trailing character per level: 81667, 8166*, 816**, ..., *."""

    def __init__(self, keep_min: int = 1) -> None:
        if keep_min < 0:
            raise ConfigError("prefix hierarchy: keep_min must be >= 0")
        self.keep_min = keep_min

    def labels(self, values: Sequence[str], column: str) -> list[tuple[str, ...]]:
        width = max((len(v) for v in values), default=1)
        steps = max(width - self.keep_min, 0)
        out = []
        for v in values:
            padded = v.ljust(width)
            chain = [v]
            for i in range(1, steps + 1):
                chain.append((padded[: width - i] + "*" * i).rstrip() if i < width else TOP)
            if chain[-1] != TOP:
                chain.append(TOP)
            out.append(tuple(chain))
        return out


class SuppressionHierarchy(Hierarchy):
    """Two levels: the value, or ``*``. The default for categories without a mapping."""

    def labels(self, values: Sequence[str], column: str) -> list[tuple[str, ...]]:
        return [(v, TOP) for v in values]


def _check_functional(chains: Sequence[tuple[str, ...]], source: str) -> None:
    depth = len(chains[0]) if chains else 0
    for level in range(1, depth - 1):
        parent: dict[str, str] = {}
        for chain in chains:
            seen = parent.setdefault(chain[level], chain[level + 1])
            if seen != chain[level + 1]:
                raise ConfigError(
                    f"{source}: '{chain[level]}' at level {level} generalizes to both '{seen}' and "
                    f"'{chain[level + 1]}' at level {level + 1}; each level must be a function of the one below"
                )


def auto_hierarchy(values: Sequence[str]) -> Hierarchy:
    """Pick a hierarchy from what the values look like: numbers, ISO dates, fixed-width digit codes, categories."""
    sample = [v for v in values if v not in ("", None)][:1000]
    if sample and all(_ISO.match(v) for v in sample):
        return DateHierarchy()
    if sample and all(v.isdigit() for v in sample) and len({len(v) for v in sample}) == 1 and sample[0][0] == "0":
        return PrefixHierarchy()
    if sample and all(v.isdigit() and len(v) >= 5 for v in sample) and len({len(v) for v in sample}) == 1:
        return PrefixHierarchy()
    if sample and all(_is_number(v) for v in sample):
        return IntervalHierarchy()
    return SuppressionHierarchy()


def _is_number(v: str) -> bool:
    try:
        x = float(v)
    except ValueError:
        return False
    return math.isfinite(x)


def parse_spec(spec: str) -> Hierarchy:
    """A hierarchy from a short text: ``interval:5,10,20``, ``interval``, ``date:month,year``, ``prefix``,
    ``prefix:2`` (keep at least 2 characters), ``suppress``, a path to an ARX-format CSV file, or a YAML category
    mapping (``flu: [respiratory, infectious]``)."""
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    try:
        if kind == "interval":
            return IntervalHierarchy([float(x) for x in arg.split(",")] if arg else None)
        if kind == "date":
            return DateHierarchy([x.strip() for x in arg.split(",")] if arg else ("month", "year"))
        if kind == "prefix":
            return PrefixHierarchy(int(arg) if arg else 1)
    except ValueError:
        raise ConfigError(f"cannot read the hierarchy '{spec}'", hint="e.g. interval:5,10,20 or prefix:2") from None
    if kind in ("suppress", "suppression"):
        return SuppressionHierarchy()
    path = Path(spec)
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        return mapping_file(path)
    if path.is_file():
        return TableHierarchy.from_csv(path)
    raise ConfigError(
        f"unknown hierarchy '{spec}'",
        hint="use interval[:W1,W2,..], date[:month,year,decade], prefix[:N], suppress, or a CSV file",
    )


def mapping_file(path: Path) -> TableHierarchy:
    """A category mapping in YAML: ``value: [level 1, level 2, ...]`` (or ``value: parent`` for one level)."""
    from veil.yamlfile import read_yaml

    data, _ = read_yaml(path, ConfigError)
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path}: a hierarchy mapping is 'value: [level 1, level 2, ...]' per line")
    rows: dict[str, list[str]] = {}
    for value, above in data.items():
        chain = above if isinstance(above, list) else [above]
        rows[str(value)] = [str(x) for x in chain]
    return TableHierarchy(rows, source=str(path))


def load_directory(directory: Path | str, columns: Sequence[str]) -> dict[str, Hierarchy]:
    """Hierarchy files for these columns in a directory: ``<column>.csv`` or ARX's ``*_hierarchy_<column>.csv``."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory of hierarchy files")
    found: dict[str, Hierarchy] = {}
    for column in columns:
        candidates = [folder / f"{column}.csv", *sorted(folder.glob(f"*_hierarchy_{column}.csv"))]
        for path in candidates:
            if path.is_file():
                found[column] = TableHierarchy.from_csv(path)
                break
    return found
