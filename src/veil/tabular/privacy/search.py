"""Optimal full-domain generalization: search the lattice of generalization levels.

Every transformation (one level per quasi-identifier) is a node of a lattice; a node's generalizations are the
nodes with every level at least as high. The search finds the node of least information loss whose classes satisfy
every privacy model once the failing classes (at most the suppression limit of rows) are suppressed.

Like ARX's Flash it walks upward paths from the lowest unclassified node and binary-searches each path for the
boundary between failing and passing nodes. Monotonicity tags nodes without checking them: when every model is
monotone, a passing node's generalizations pass and a failing node's specializations fail; when one is not
(t-closeness with suppression), only the monotone models' failures are propagated and every other candidate is
checked. Candidates are evaluated in order of a lower bound of their loss, stopping when the bound reaches the best
loss found, so the answer is exact.

A check counts the distinct rows of the columns the node does not suppress entirely, grouped by their generalized
codes (:meth:`Encoded.check_groups`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from veil.errors import ConfigError, NoSolution
from veil.tabular.privacy.encoding import Encoded, Groups
from veil.tabular.privacy.metrics import Evaluation, Metrics, check_metric
from veil.tabular.privacy.models import PrivacyModel, passing, require_sensitive

MAX_NODES = 1_000_000  # the lattice and its tag arrays take ~100 bytes a node
UNKNOWN, PASS, FAIL = 0, 1, -1


@dataclass
class SearchResult:
    levels: tuple[int, ...]
    evaluation: Evaluation
    checks: int
    nodes: int
    seconds: float


class Lattice:
    """All combinations of levels, as a dense array, with index arithmetic."""

    def __init__(self, tops: Sequence[int]) -> None:
        self.tops = np.array(tops, dtype=np.int64)
        radix = self.tops + 1
        self.size = int(np.prod(radix))
        if self.size > MAX_NODES:
            raise ConfigError(
                f"{self.size:,} combinations of generalization levels are too many for the optimal search",
                hint="use fewer quasi-identifiers or --method mondrian (local recoding)",
            )
        self.strides = np.ones(len(tops), dtype=np.int64)
        for j in range(len(tops) - 2, -1, -1):
            self.strides[j] = self.strides[j + 1] * radix[j + 1]
        index = np.arange(self.size, dtype=np.int64)
        self.levels = ((index[:, None] // self.strides[None, :]) % radix[None, :]).astype(np.int16)
        self.height = self.levels.sum(axis=1)
        # per column: nodes that can step up in it, and the node they step to
        self.steps = []
        for j in range(len(tops)):
            can = np.nonzero(self.levels[:, j] < self.tops[j])[0]
            self.steps.append((can, can + self.strides[j]))
        # per column and level: which nodes have at least / at most that level
        self._ge = [[self.levels[:, j] >= lv for lv in range(int(t) + 1)] for j, t in enumerate(tops)]
        self._le = [[self.levels[:, j] <= lv for lv in range(int(t) + 1)] for j, t in enumerate(tops)]

    def maximal(self, region: np.ndarray) -> np.ndarray:
        """Nodes of ``region`` none of whose one-step generalizations is in ``region``."""
        out = region.copy()
        for can, up in self.steps:
            out[can[region[up]]] = False
        return out

    def index(self, levels: Sequence[int]) -> int:
        return int(np.dot(np.asarray(levels, dtype=np.int64), self.strides))

    def successors(self, i: int) -> list[int]:
        lv = self.levels[i]
        return [i + int(self.strides[j]) for j in range(len(lv)) if lv[j] < self.tops[j]]

    def at_or_above(self, i: int) -> np.ndarray:
        return self._combine(self._ge, i)

    def at_or_below(self, i: int) -> np.ndarray:
        return self._combine(self._le, i)

    def _combine(self, table: list[list[np.ndarray]], i: int) -> np.ndarray:
        lv = self.levels[i]
        out = table[0][int(lv[0])].copy()
        for j in range(1, len(lv)):
            out &= table[j][int(lv[j])]
        return out


class _Checker:
    """Groups nodes and applies the privacy models (the last few groupings are cached)."""

    def __init__(self, data: Encoded, models: Sequence[PrivacyModel], limit: int, cache: int = 8) -> None:
        self.data = data
        self.models = list(models)
        self.limit = limit
        self.cache: OrderedDict[tuple[int, ...], Groups] = OrderedDict()
        self.cache_size = cache
        self.checks = 0

    def groups(self, levels: tuple[int, ...]) -> Groups:
        hit = self.cache.get(levels)
        if hit is None:
            hit = self.data.groups(levels)
            self.cache[levels] = hit
            if len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
        return hit

    def check(self, levels: tuple[int, ...]) -> tuple[bool, bool, Groups]:
        """(passes, monotone part fails, groups)."""
        self.checks += 1
        groups = self.cache.get(levels) or self.data.check_groups(levels)
        ok = np.ones(len(groups.sizes), dtype=bool)
        mono_ok = ok.copy()
        for model in self.models:
            verdict = model.passes(groups)
            ok &= verdict
            if model.monotone:
                mono_ok &= verdict
        passes = int(groups.sizes[~ok].sum()) <= self.limit
        mono_fails = int(groups.sizes[~mono_ok].sum()) > self.limit
        return passes, mono_fails, groups


def optimal(
    data: Encoded,
    models: Sequence[PrivacyModel],
    *,
    suppression: float = 0.0,
    metric: str = "entropy",
    aggregate: str = "sum",
) -> SearchResult:
    """The globally optimal full-domain generalization (raises NoSolution when there is none).

    ``aggregate`` combines per-column losses: ``sum``, or ``rank`` (ARX's RANK: compare the columns' losses
    sorted from the largest, lexicographically, so the worst column counts first).
    """
    check_metric(metric)
    if aggregate not in ("sum", "rank"):
        raise ConfigError("aggregate must be 'sum' or 'rank'")
    if not 0 <= suppression <= 1:
        raise ConfigError("the suppression limit is a share of rows between 0 and 1")
    if not models:
        raise ConfigError("give at least one privacy model")
    require_sensitive(models, data.sensitive is not None)
    for model in models:
        model.prepare(data)
    start = time.perf_counter()
    lattice = Lattice(data.tops)
    limit = int(np.floor(suppression * data.rows + 1e-9))
    checker = _Checker(data, models, limit)
    metrics = Metrics(data)
    monotone = all(m.monotone for m in models) or limit == 0
    mono_models = list(models) if monotone else [m for m in models if m.monotone]
    if not monotone:  # what the others imply and is monotone prunes too
        mono_models += [n for m in models if not m.monotone for n in m.necessary()]
        for model in mono_models:
            model.prepare(data)
    prober = checker if monotone else _Checker(data, mono_models, limit)
    prober.cache = checker.cache
    state = np.zeros(lattice.size, dtype=np.int8)  # the whole configuration
    mono = state if monotone else np.zeros(lattice.size, dtype=np.int8)  # the monotone models alone
    bound = metrics.lower_bounds(metric, lattice.levels)
    static = metrics.static(metric, data.tops) is not None
    columns = metrics.column_bounds(metric, lattice.levels)
    if aggregate == "rank":
        if columns is None:
            raise ConfigError(f"the rank aggregate needs a per-column metric, not '{metric}'")
        ranked = -np.sort(-columns, axis=1)
        order = np.lexsort((lattice.height, *ranked.T[::-1]))
    else:
        if monotone and static:
            _cover(lattice, checker, state, bound)
        order = np.lexsort((lattice.height, bound))

    def key(i: int, value: float | None = None, per: Sequence[float] | None = None) -> tuple[float, ...]:
        if aggregate == "rank":
            return tuple(sorted(per, reverse=True)) if per is not None else tuple(ranked[i])
        return (max(bound[i], floor[i]) if value is None else value,)

    floor = np.zeros(lattice.size)  # data-dependent lower bounds learnt from checked nodes
    best: tuple[tuple[float, ...], int] | None = None
    for i in order:
        i = int(i)
        if best is not None and key(i) >= best[0]:
            if static:
                break
            continue
        if state[i] == FAIL:
            continue
        levels = tuple(int(x) for x in lattice.levels[i])
        if state[i] != PASS and monotone:
            _probe(lattice, checker, state, bound, i, first=0)
            if state[i] == FAIL:
                continue
        if state[i] != PASS:
            passes, mono_fails, groups = checker.check(levels)
            _tag(lattice, state, i, passes, monotone)
            if mono_fails:
                _tag(lattice, mono, i, False, True)
                state[mono == FAIL] = FAIL
                if mono_models:
                    _probe(lattice, prober, mono, bound, i)
                    state[mono == FAIL] = FAIL
            if not passes:
                if metric.startswith("discernibility"):
                    _learn_floor(lattice, floor, i, groups)
                continue
        value = metrics.static(metric, levels) if aggregate == "sum" else None
        if value is None:
            groups = checker.groups(levels)
            evaluation = metrics.evaluate(metric, levels, groups, passing(models, groups))
            value = evaluation.loss
            if metric.startswith("discernibility"):
                _learn_floor(lattice, floor, i, groups)
            found = key(i, value, evaluation.per_column)
        else:
            found = key(i, value)
        if best is None or found < best[0]:
            best = (found, i)
    seconds = time.perf_counter() - start
    if best is None:
        raise NoSolution(
            "no generalization satisfies "
            + ", ".join(m.label() for m in models)
            + f" with at most {limit} suppressed rows",
            hint="raise the suppression limit, relax the model or give coarser hierarchies",
        )
    levels = tuple(int(x) for x in lattice.levels[best[1]])
    groups = checker.groups(levels)
    evaluation = metrics.evaluate(metric, levels, groups, passing(models, groups))
    checks = checker.checks + (prober.checks if prober is not checker else 0)
    return SearchResult(levels, evaluation, checks, lattice.size, seconds)


def _cover(lattice: Lattice, checker: _Checker, state: np.ndarray, bound: np.ndarray) -> None:
    """Static loss, monotone models: classify just enough to know the cheapest passing node.

    Any node cheaper than the best passing node found so far must be shown to fail; covering the maximal ones of
    those (their specializations follow) by failing nodes found on upward paths settles all of them.
    """
    _probe(lattice, checker, state, bound, int(np.argmin(bound)), first=0)
    while True:
        passing = state == PASS
        best = float(bound[passing].min()) if passing.any() else np.inf
        region = (state == UNKNOWN) & (bound < best)
        if not region.any():
            return
        tops = np.nonzero(lattice.maximal(region))[0]
        for m in tops[np.argsort(bound[tops], kind="stable")]:
            m = int(m)
            if state[m] == UNKNOWN and bound[m] < best:
                _probe(lattice, checker, state, bound, m, first=0)
                if state[m] == PASS:
                    best = min(best, float(bound[m]))


def _tag(lattice: Lattice, state: np.ndarray, i: int, passes: bool, monotone: bool) -> None:
    """Record a check of node ``i`` and what monotonicity proves about other nodes."""
    if passes:
        if monotone:
            state[lattice.at_or_above(i) & (state == UNKNOWN)] = PASS
        state[i] = PASS
    else:
        if monotone:
            state[lattice.at_or_below(i)] = FAIL
        state[i] = FAIL


def _probe(lattice: Lattice, prober: _Checker, mono: np.ndarray, bound: np.ndarray, i: int, first: int = 1) -> None:
    """From failing node ``i`` walk up (cheapest steps first) and binary-search the highest failing node on the
    path: its specializations, many of them still ahead in the search order, fail too."""
    path = [i]
    current = i
    while True:
        nxt = [s for s in lattice.successors(current) if mono[s] != PASS]
        if not nxt:
            break
        current = min(nxt, key=lambda s: (bound[s], s))
        path.append(current)
    lo, hi = first, len(path) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        node = path[mid]
        if mono[node] == FAIL:
            lo = mid + 1
            continue
        passes = prober.check(tuple(int(x) for x in lattice.levels[node]))[0]
        _tag(lattice, mono, node, passes, True)
        if passes:
            hi = mid - 1
        else:
            lo = mid + 1


def _learn_floor(lattice: Lattice, floor: np.ndarray, i: int, groups: Groups) -> None:
    """Discernibility of any node at or above ``i`` is at least the sum of squared class sizes at ``i``."""
    squares = float(np.sum(groups.sizes.astype(np.float64) ** 2))
    above = lattice.at_or_above(i)
    np.maximum(floor, np.where(above, squares, 0.0), out=floor)
