"""Mondrian: fast local recoding for many quasi-identifiers or rows (LeFevre, DeWitt & Ramakrishnan 2006).

Strict multidimensional partitioning: start with the whole table as one partition; repeatedly cut each
partition at the median of its widest quasi-identifier (range normalised by the column's whole range) into two
parts that both still satisfy the privacy models; stop when no cut is allowed. Each final partition becomes an
equivalence class: numbers are released as the partition's ``[min-max]`` range, categories as their lowest common
ancestor in the hierarchy (or ``{a,b}`` / ``a..z`` without one).

All partitions of a round are cut together with vectorised numpy (one sort per round), so a million rows take
seconds. Columns that are not numbers are ordered by their hierarchy (so cuts follow its subtrees) or by value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from veil.errors import ConfigError, InputError, NoSolution
from veil.extras import require_columns
from veil.tabular.privacy.encoding import Groups
from veil.tabular.privacy.hierarchy import Hierarchy, TableHierarchy
from veil.tabular.privacy.models import PrivacyModel, passing, require_sensitive


@dataclass
class _Dimension:
    name: str
    codes: np.ndarray  # per row: position of its value in the column's order
    values: list[str]  # order -> value
    numbers: np.ndarray | None  # order -> number, for numeric columns
    chains: list[tuple[str, ...]] | None  # order -> hierarchy labels, for columns with a table hierarchy


@dataclass
class MondrianResult:
    frame: pl.DataFrame
    partitions: np.ndarray  # per row: its class
    sizes: np.ndarray
    loss: float  # mean over columns of the normalised generalization (ARX's loss for local recoding, no suppression)
    rounds: int
    seconds: float


def mondrian(
    frame: pl.DataFrame,
    qis: Sequence[str],
    models: Sequence[PrivacyModel],
    *,
    hierarchies: Mapping[str, Hierarchy] | None = None,
    sensitive: str | None = None,
) -> MondrianResult:
    """Partition ``frame`` and return it with the quasi-identifiers recoded per partition."""
    start = time.perf_counter()
    if frame.height == 0:
        raise InputError("the table has no rows")
    require_columns(frame.columns, [*qis, sensitive])
    if not qis or not models:
        raise ConfigError("give quasi-identifiers and at least one privacy model")
    dims = [_dimension(frame[c], (hierarchies or {}).get(c)) for c in qis]
    require_sensitive(models, sensitive is not None)
    sens, labels = _sensitive(frame, sensitive)
    width = len(labels)
    if sens is not None:
        distribution = np.bincount(sens, minlength=width) / len(sens)
        for model in models:
            model.prepare_distribution(distribution, labels, sensitive or "sensitive")
    n = frame.height
    whole = Groups(np.array([n]), None if sens is None else np.bincount(sens, minlength=width)[None, :])
    if not passing(models, whole)[0]:
        raise NoSolution("even the whole table as one class does not satisfy the privacy models")
    spans = np.array([max(int(d.codes.max()), 1) for d in dims], dtype=np.float64)
    part = np.zeros(n, dtype=np.int64)
    final = np.zeros(1, dtype=bool)
    rounds = 0
    codes = np.stack([d.codes for d in dims], axis=1)
    while not final.all():
        rounds += 1
        count = len(final)
        order = np.argsort(part, kind="stable")
        sorted_part = part[order]
        starts = np.searchsorted(sorted_part, np.arange(count))
        lo = np.minimum.reduceat(codes[order], starts, axis=0)
        hi = np.maximum.reduceat(codes[order], starts, axis=0)
        width_norm = (hi - lo) / spans
        width_norm[final] = -1
        new_id = count
        newpart = part.copy()
        tried = np.zeros((count, len(dims)), dtype=bool)
        pending = ~final & (width_norm.max(axis=1) > 0)
        final |= ~pending
        while pending.any():
            untried = np.where(tried, -1.0, width_norm)
            choice = untried.argmax(axis=1)
            usable = pending & (untried.max(axis=1) > 0)
            final |= pending & ~usable
            pending &= usable
            if not pending.any():
                break
            cut, left_ok = _cut(codes, part, choice, pending, models, sens, width)
            done = pending & left_ok
            rows = done[part] & (codes[np.arange(n), choice[part]] > cut[part])
            moved = np.nonzero(done)[0]
            ids = np.full(count, -1, dtype=np.int64)
            ids[moved] = new_id + np.arange(len(moved))
            new_id += len(moved)
            newpart[rows] = ids[part[rows]]
            pending &= ~done
            tried[np.arange(count), choice] |= pending
        part = newpart
        final = np.concatenate([final, np.zeros(new_id - count, dtype=bool)])
        if new_id == count:
            break
    _, part = np.unique(part, return_inverse=True)
    part = part.ravel()
    sizes = np.bincount(part)
    out, loss = _recode(frame, dims, part, len(sizes))
    return MondrianResult(out, part, sizes, loss, rounds, time.perf_counter() - start)


def _cut(
    codes: np.ndarray,
    part: np.ndarray,
    choice: np.ndarray,
    pending: np.ndarray,
    models: Sequence[PrivacyModel],
    sens: np.ndarray | None,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Median cut value per pending partition (left side <= cut) and whether both sides pass the models."""
    rows = np.nonzero(pending[part])[0]
    value = codes[rows, choice[part[rows]]]
    order = np.lexsort((value, part[rows]))
    p_sorted = part[rows][order]
    v_sorted = value[order]
    count = len(pending)
    sizes = np.bincount(p_sorted, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    median = np.zeros(count, dtype=np.int64)
    has = sizes > 0
    median[has] = v_sorted[starts[has] + (sizes[has] - 1) // 2]
    # strict cut: values <= median go left; if that empties the right side, cut below the median instead
    top = np.zeros(count, dtype=np.int64)
    top[has] = v_sorted[starts[has] + sizes[has] - 1]
    cut = np.where(median >= top, median - 1, median)
    left = v_sorted <= cut[p_sorted]
    side = p_sorted * 2 + (~left).astype(np.int64)
    side_sizes = np.bincount(side, minlength=2 * count)
    hist = None
    if sens is not None:
        s_sorted = sens[rows][order]
        hist = np.bincount(side * width + s_sorted, minlength=2 * count * width).reshape(2 * count, width)
    ok = (side_sizes > 0) & passing(models, Groups(side_sizes, hist))
    both = ok[0::2] & ok[1::2]
    return cut, both & pending


def _dimension(series: pl.Series, hierarchy: Hierarchy | None) -> _Dimension:
    text = series.cast(pl.String).fill_null("")
    values = text.unique().to_list()
    numbers = None
    chains = None
    if isinstance(hierarchy, TableHierarchy):
        chains_by_value = dict(zip(values, hierarchy.labels(values, series.name), strict=True))
        values.sort(key=lambda v: tuple(reversed(chains_by_value[v])))
        chains = [chains_by_value[v] for v in values]
    else:
        try:
            parsed = [float(v) for v in values]
        except ValueError:
            values.sort()
        else:
            pairs = sorted(zip(parsed, values, strict=True))
            values = [v for _, v in pairs]
            numbers = np.array([x for x, _ in pairs])
    index = {v: i for i, v in enumerate(values)}
    codes = text.replace_strict(index, return_dtype=pl.Int64).to_numpy()
    return _Dimension(series.name, codes, values, numbers, chains)


def _sensitive(frame: pl.DataFrame, sensitive: str | None) -> tuple[np.ndarray | None, list[str]]:
    """Codes of the sensitive values (in sorted order of the values) and those values."""
    if sensitive is None:
        return None, []
    text = frame[sensitive].cast(pl.String).fill_null("")
    labels = text.unique().sort().to_list()
    index = {v: i for i, v in enumerate(labels)}
    return text.replace_strict(index, return_dtype=pl.Int64).to_numpy(), labels


def _recode(frame: pl.DataFrame, dims: list[_Dimension], part: np.ndarray, count: int) -> tuple[pl.DataFrame, float]:
    columns = []
    losses = []
    for d in dims:
        lo = np.full(count, np.iinfo(np.int64).max)
        hi = np.full(count, -1)
        np.minimum.at(lo, part, d.codes)
        np.maximum.at(hi, part, d.codes)
        labels, loss = _labels(d, lo, hi)
        columns.append(pl.Series(d.name, np.asarray(labels, dtype=object)[part], dtype=pl.String))
        losses.append(loss[part].mean())
    out = frame.with_columns(columns)
    return out, float(np.mean(losses))


def _labels(d: _Dimension, lo: np.ndarray, hi: np.ndarray) -> tuple[list[str], np.ndarray]:
    """A label per partition and its normalised generalization (0 = exact value, 1 = whole domain)."""
    last = max(len(d.values) - 1, 1)
    if d.numbers is not None:
        span = float(d.numbers[-1] - d.numbers[0]) or 1.0
        labels = [d.values[a] if a == b else f"[{d.values[a]}-{d.values[b]}]" for a, b in zip(lo, hi, strict=True)]
        return labels, (d.numbers[hi] - d.numbers[lo]) / span
    if d.chains is not None:
        labels = []
        for a, b in zip(lo, hi, strict=True):
            first, other = d.chains[a], d.chains[b]
            level = next(lv for lv in range(len(first)) if first[lv] == other[lv])
            # the range a..b can straddle several subtrees: the common ancestor of its two ends covers it
            labels.append(first[level])
        return labels, (hi - lo) / last
    labels = [_span(d.values, a, b) for a, b in zip(lo, hi, strict=True)]
    return labels, (hi - lo) / last


def _span(values: list[str], a: int, b: int) -> str:
    """A category range: the value, a small set ``{a,b,c}`` or ``first..last`` in the column's order."""
    if a == b:
        return values[a]
    if b - a < 4:
        return "{" + ",".join(values[a : b + 1]) + "}"
    return f"{values[a]}..{values[b]}"
