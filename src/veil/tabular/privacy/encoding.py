"""A table encoded for the privacy search: integer codes per quasi-identifier and level, distinct rows counted.

Rows are compressed to their distinct (quasi-identifiers, sensitive value) combinations with a count, so a check
of one transformation groups those (19,502 for Adult's nine columns) instead of every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from veil.errors import ConfigError, InputError
from veil.extras import require_columns
from veil.tabular.privacy.hierarchy import Hierarchy, auto_hierarchy

IntArray = np.ndarray


@dataclass
class Column:
    """One quasi-identifier: its values' codes at each level and the labels of those codes."""

    name: str
    maps: list[IntArray]  # level -> (code at level 0 -> code at that level)
    labels: list[list[str]]  # level -> code -> label
    counts: IntArray  # code at level 0 -> rows with that value
    leaves: list[IntArray]  # level -> code -> original values under it (of the hierarchy's domain if known)
    domain: int  # number of original values (the hierarchy's domain if known, else the data's)

    @property
    def top(self) -> int:
        return len(self.maps) - 1

    def cardinality(self, level: int) -> int:
        return len(self.labels[level])


class Groups:
    """The equivalence classes of one transformation: sizes, sensitive histograms, and (computed when first
    asked for) the class of every distinct row."""

    def __init__(
        self,
        sizes: IntArray,
        histogram: IntArray | None,
        inverse: IntArray | None = None,
        key: IntArray | None = None,
        present: IntArray | None = None,
    ) -> None:
        self.sizes = sizes  # class -> rows
        self.histogram = histogram  # class x sensitive value -> rows
        self._inverse = inverse
        self._key = key
        self._present = present

    @property
    def inverse(self) -> IntArray:
        """Distinct row -> class."""
        if self._inverse is None:
            assert self._key is not None and self._present is not None
            self._inverse = (np.cumsum(self._present) - 1)[self._key]
        return self._inverse


class Encoded:
    """Quasi-identifiers (and an optional sensitive column) of a frame, ready for many checks."""

    def __init__(
        self,
        frame: pl.DataFrame,
        qis: Sequence[str],
        hierarchies: Mapping[str, Hierarchy] | None = None,
        sensitive: str | None = None,
    ) -> None:
        if not qis:
            raise ConfigError("give at least one quasi-identifier")
        require_columns(frame.columns, [*qis, sensitive])
        if len(set(qis)) != len(qis):
            raise ConfigError("a quasi-identifier is listed twice")
        if sensitive in qis:
            raise ConfigError(f"'{sensitive}' cannot be both a quasi-identifier and the sensitive attribute")
        if frame.height == 0:
            raise InputError("the table has no rows")
        hierarchies = dict(hierarchies or {})
        self.qis = list(qis)
        self.rows = frame.height
        wanted = (*qis, *([sensitive] if sensitive else []))
        text = frame.select([pl.col(c).cast(pl.String).fill_null("") for c in wanted])
        codes = []
        self.columns: list[Column] = []
        for name in qis:
            series = text[name]
            values = series.unique().sort().to_list()
            hierarchy = hierarchies.get(name) or auto_hierarchy(values)
            chains = hierarchy.labels(values, name)
            index = {v: i for i, v in enumerate(values)}
            code0 = series.replace_strict(index, return_dtype=pl.Int32).to_numpy()
            self.columns.append(_column(name, chains, np.bincount(code0, minlength=len(values)), hierarchy.domain()))
            codes.append(code0)
        self.sensitive = sensitive
        self.sensitive_labels: list[str] = []
        if sensitive is not None:
            svalues = text[sensitive].unique().sort().to_list()
            self.sensitive_labels = svalues
            sindex = {v: i for i, v in enumerate(svalues)}
            codes.append(text[sensitive].replace_strict(sindex, return_dtype=pl.Int32).to_numpy())
        stacked = np.stack(codes, axis=1).astype(np.int64)
        distinct, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
        self.tuples = np.ascontiguousarray(distinct[:, : len(qis)])
        self.counts = counts.astype(np.int64)
        self.weights = counts.astype(np.float64)  # bincount wants float weights; convert once
        self.sens = distinct[:, len(qis)] if sensitive is not None else None
        self.row_tuple = inverse.ravel()  # row -> its distinct row, to map results back to rows
        self.distribution = (
            np.bincount(self.sens, weights=self.counts, minlength=len(self.sensitive_labels)) / self.rows
            if self.sens is not None
            else None
        )
        # generalized codes of every distinct row at every level, per column
        self._at = [[m[self.tuples[:, j]].astype(np.int32) for m in col.maps] for j, col in enumerate(self.columns)]
        self._projections: dict[tuple[bool, ...], tuple[list[list[IntArray]], IntArray, IntArray | None]] = {}
        self._masks_seen: dict[tuple[bool, ...], int] = {}

    @property
    def tops(self) -> tuple[int, ...]:
        return tuple(c.top for c in self.columns)

    def keys(self, levels: Sequence[int]) -> tuple[IntArray, int]:
        """One key per distinct row naming its class under ``levels``, and the size of the key space (keys are
        dense below it)."""
        return self._keys(self._at, levels, len(self.tuples))

    def _keys(self, at: list[list[IntArray]], levels: Sequence[int], count: int) -> tuple[IntArray, int]:
        parts = []
        space = 1
        for j, (col, level) in enumerate(zip(self.columns, levels, strict=True)):
            size = col.cardinality(level)
            if size > 1:
                parts.append((size, at[j][level]))
                space *= size
        if not parts:
            return np.zeros(count, dtype=np.int64), 1
        if space < (1 << 31):
            small = parts[0][1].astype(np.int32)
            for size, codes in parts[1:]:
                small *= size
                small += codes
            return small, space
        key: IntArray = np.zeros(count, dtype=np.int64)
        space = 1
        for size, codes in parts:
            if space > (1 << 62) // size:  # would overflow: re-number the classes so far
                _, key = np.unique(key, return_inverse=True)
                key = key.ravel()
                space = int(key.max()) + 1
            key = key * size + codes
            space *= size
        return key, space

    def groups(self, levels: Sequence[int]) -> Groups:
        """The classes of a transformation, with the class of every distinct row."""
        key, space = self.keys(levels)
        return self._group(key, space, self.weights, self.sens)

    def check_groups(self, levels: Sequence[int]) -> Groups:
        """The classes' sizes and histograms only (no row -> class map), computed on the distinct rows of just
        the columns this transformation does not suppress entirely: far fewer rows when many are at the top."""
        mask = tuple(col.cardinality(lv) > 1 for col, lv in zip(self.columns, levels, strict=True))
        projection = self._projections.get(mask)
        if projection is None:
            seen = self._masks_seen.get(mask, 0) + 1
            self._masks_seen[mask] = seen
            # a projection costs about one check: make it when the same columns come back
            projection = self._project(mask) if seen >= 2 else (self._at, self.weights, self.sens)
        at, weights, sens = projection
        key, space = self._keys(at, levels, len(weights))
        return self._group(key, space, weights, sens, with_rows=False)

    def _project(self, mask: tuple[bool, ...]) -> tuple[list[list[IntArray]], IntArray, IntArray | None]:
        """Distinct rows of the columns in ``mask`` (and the sensitive value), with their weights. Made from the
        smallest projection already made that keeps those columns, so most are cheap."""
        kept = [j for j, keep in enumerate(mask) if keep]
        projection: tuple[list[list[IntArray]], IntArray, IntArray | None]
        if len(kept) == len(mask):
            projection = (self._at, self.weights, self.sens)
        else:
            base = (self._at, self.weights, self.sens)
            for other, candidate in self._projections.items():
                if all(o or not m for o, m in zip(other, mask, strict=True)) and len(candidate[1]) < len(base[1]):
                    base = candidate
            at0, base_weights, base_sens = base
            columns = [at0[j][0] for j in kept] + ([base_sens] if base_sens is not None else [])
            sizes = [self.columns[j].cardinality(0) for j in kept]
            if base_sens is not None:
                sizes.append(len(self.sensitive_labels))
            if not columns:
                first = np.zeros(1, dtype=np.int64)
                inverse = np.zeros(len(base_weights), dtype=np.int64)
            elif float(np.prod(np.asarray(sizes, dtype=np.float64))) < 2.0**62:
                key = np.zeros(len(base_weights), dtype=np.int64)
                for size, codes in zip(sizes, columns, strict=True):
                    key = key * size + codes
                _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            else:
                _, first, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
            weights = np.bincount(inverse.ravel(), weights=base_weights, minlength=len(first))
            at = [[codes[first] for codes in per] if j in kept else [] for j, per in enumerate(at0)]
            projection = (at, weights, None if base_sens is None else base_sens[first])
        if len(self._projections) < 1024:
            self._projections[mask] = projection
        return projection

    def _group(
        self, key: IntArray, space: int, weights: IntArray, sens: IntArray | None, *, with_rows: bool = True
    ) -> Groups:
        width = len(self.sensitive_labels)
        if space <= max(8 * len(key), 1 << 16) and space * max(width, 1) <= (1 << 24):
            dense = np.bincount(key, weights=weights, minlength=space)
            present = dense > 0
            sizes = dense[present].astype(np.int64)
            histogram = None
            if sens is not None:
                flat = np.bincount(key * width + sens, weights=weights, minlength=space * width)
                histogram = flat.reshape(space, width)[present].astype(np.int64)
            return Groups(sizes, histogram, key=key, present=present) if with_rows else Groups(sizes, histogram)
        _, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.ravel()
        classes = int(inverse.max()) + 1 if len(inverse) else 0
        sizes = np.bincount(inverse, weights=weights, minlength=classes).astype(np.int64)
        histogram = None
        if sens is not None:
            flat = np.bincount(inverse * width + sens, weights=weights, minlength=classes * width)
            histogram = flat.reshape(classes, width).astype(np.int64)
        return Groups(sizes, histogram, inverse if with_rows else None)

    def generalized(self, column: int, level: int) -> IntArray:
        """Codes of column ``column`` at ``level`` for every distinct row."""
        return np.asarray(self._at[column][level])


def _column(name: str, chains: list[tuple[str, ...]], counts: IntArray, domain: list[dict[str, int]] | None) -> Column:
    depth = len(chains[0])
    maps: list[IntArray] = []
    labels: list[list[str]] = []
    for level in range(depth):
        order: dict[str, int] = {}
        codes = (order.setdefault(c[level], len(order)) for c in chains)
        mapped = np.fromiter(codes, dtype=np.int64, count=len(chains))
        maps.append(mapped)
        labels.append(list(order))
    if domain is not None:
        leaves = [np.array([domain[lv][label] for label in labels[lv]], dtype=np.int64) for lv in range(depth)]
        size = sum(domain[0].values())
    else:
        leaves = [np.bincount(m, minlength=len(labels[lv])).astype(np.int64) for lv, m in enumerate(maps)]
        size = len(chains)
    return Column(name, maps, labels, counts, leaves, size)
