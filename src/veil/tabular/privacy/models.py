"""Privacy models, each deciding per equivalence class whether it may be released.

A class that fails any model is suppressed; a transformation is acceptable when the suppressed rows stay within
the suppression limit. The definitions follow ARX (and the papers it cites), so results can be checked against it:

- k-anonymity: every class has at least k rows.
- distinct l-diversity: at least l distinct sensitive values in a class.
- entropy l-diversity: the Shannon entropy (bits) of the class's sensitive values is at least log2(l).
- recursive (c,l)-diversity: r1 < c * (r_l + ... + r_m), with r the class's value counts in descending order.
- t-closeness: the earth mover's distance between the class's and the whole table's sensitive distribution is at
  most t: equal distance (half the L1 distance), ordered distance (values in sorted order; numbers by value) or
  hierarchical distance (Li, Li & Venkatasubramanian 2007, over the sensitive attribute's hierarchy).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from veil.errors import ConfigError
from veil.tabular.privacy.encoding import Encoded, Groups
from veil.tabular.privacy.hierarchy import Hierarchy

Mask = np.ndarray


class PrivacyModel(ABC):
    """Decides, per class, whether it satisfies the model."""

    name = "model"
    needs_sensitive = False
    #: generalizing (merging classes) never makes more rows fail, so with a suppression limit a failing
    #: transformation's specializations fail too; models without this are only monotone when nothing may be
    #: suppressed (merging two passing classes gives a passing class for every model here)
    monotone = True

    def necessary(self) -> list[PrivacyModel]:
        """Monotone models every class satisfying this one also satisfies (used to prune the search)."""
        return []

    def prepare(self, data: Encoded) -> None:
        """Precompute what the model needs from the whole table."""
        if data.distribution is not None:
            self.prepare_distribution(data.distribution, data.sensitive_labels, data.sensitive or "sensitive")

    def prepare_distribution(self, distribution: np.ndarray, labels: list[str], column: str = "sensitive") -> None:  # noqa: B027
        """The whole table's distribution of the sensitive values (in the order of ``labels``); most models
        do not need it."""

    @abstractmethod
    def passes(self, groups: Groups) -> Mask:
        """Boolean per class."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The model and its parameters, for reports."""

    def label(self) -> str:
        """``k-anonymity (k=5)``: the model and its parameters in one line, for messages."""
        desc = self.describe()
        return f"{desc['model']} (" + ", ".join(f"{k}={v}" for k, v in desc.items() if k != "model") + ")"


def passing(models: Sequence[PrivacyModel], groups: Groups) -> Mask:
    """Per class: does it satisfy every model?"""
    ok = np.ones(len(groups.sizes), dtype=bool)
    for model in models:
        ok &= model.passes(groups)
    return ok


def first_failure(
    models: Sequence[PrivacyModel], groups: Groups, exempt: Mask | None = None
) -> tuple[PrivacyModel, Mask] | None:
    """The first model some (non-exempt) class fails, with the failing classes; None when all hold."""
    for model in models:
        bad = ~model.passes(groups)
        if exempt is not None:
            bad &= ~exempt
        if bad.any():
            return model, bad
    return None


def require_sensitive(models: Sequence[PrivacyModel], present: bool) -> None:
    """Models of the sensitive attribute need one."""
    for model in models:
        if model.needs_sensitive and not present:
            raise ConfigError(f"{model.name} needs a sensitive attribute (--sensitive)")


@dataclass
class KAnonymity(PrivacyModel):
    k: int
    name = "k-anonymity"

    def __post_init__(self) -> None:
        if not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"k must be a whole number >= 1, not {self.k!r}")

    def passes(self, groups: Groups) -> Mask:
        return np.asarray(groups.sizes >= self.k)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "k": self.k}


class _Sensitive(PrivacyModel):
    needs_sensitive = True

    def _hist(self, groups: Groups) -> np.ndarray:
        if groups.histogram is None:
            raise ConfigError(f"{self.name} needs a sensitive attribute")
        return groups.histogram


@dataclass
class DistinctLDiversity(_Sensitive):
    l: int  # noqa: E741 - the model's own name for it
    name = "distinct-l-diversity"

    def __post_init__(self) -> None:
        _check_l(self.l)

    def passes(self, groups: Groups) -> Mask:
        return np.asarray((self._hist(groups) > 0).sum(axis=1) >= self.l)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "l": self.l}


@dataclass
class EntropyLDiversity(_Sensitive):
    l: float  # noqa: E741
    name = "entropy-l-diversity"
    monotone = False  # a diverse class merged with a uniform one can fall below log2(l)

    def __post_init__(self) -> None:
        _check_l(self.l)

    def necessary(self) -> list[PrivacyModel]:
        return [DistinctLDiversity(math.ceil(self.l))]

    def passes(self, groups: Groups) -> Mask:
        hist = self._hist(groups).astype(np.float64)
        total = hist.sum(axis=1)
        plogp = (hist * np.log2(np.where(hist > 0, hist, 1.0))).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = np.where(total > 0, np.log2(np.maximum(total, 1)) - plogp / np.maximum(total, 1), 0.0)
        distinct = (hist > 0).sum(axis=1)
        return np.asarray((distinct >= math.ceil(self.l)) & (entropy >= math.log2(self.l)))

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "l": self.l}


@dataclass
class RecursiveCLDiversity(_Sensitive):
    c: float
    l: int  # noqa: E741
    name = "recursive-(c,l)-diversity"
    monotone = False  # a passing class merged with a failing one can fail

    def __post_init__(self) -> None:
        _check_l(self.l)
        if self.c <= 0:
            raise ConfigError("c must be > 0")

    def necessary(self) -> list[PrivacyModel]:
        return [DistinctLDiversity(self.l)]

    def passes(self, groups: Groups) -> Mask:
        hist = -np.sort(-self._hist(groups), axis=1)
        if hist.shape[1] < self.l:
            return np.zeros(hist.shape[0], dtype=bool)
        tail = hist[:, self.l - 1 :].sum(axis=1)
        distinct = (hist > 0).sum(axis=1)
        return np.asarray((distinct >= self.l) & (hist[:, 0] < self.c * tail))

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "c": self.c, "l": self.l}


@dataclass
class TCloseness(_Sensitive):
    t: float
    distance: str = "equal"
    hierarchy: Hierarchy | None = None
    name = "t-closeness"
    monotone = False  # a passing class merged with a failing one can fail

    def __post_init__(self) -> None:
        if not 0 <= self.t <= 1:
            raise ConfigError("t must be between 0 and 1")
        if self.distance not in ("equal", "ordered", "hierarchical"):
            raise ConfigError("t-closeness distance must be 'equal', 'ordered' or 'hierarchical'")
        if self.distance == "hierarchical" and self.hierarchy is None:
            raise ConfigError("hierarchical t-closeness needs a hierarchy of the sensitive attribute")
        self._p = np.zeros(0)
        self._order = np.zeros(0, dtype=np.int64)
        self._tree: list[tuple[float, np.ndarray]] = []

    def prepare_distribution(self, distribution: np.ndarray, labels: list[str], column: str = "sensitive") -> None:
        self._p = distribution
        if self.distance == "ordered":
            self._order = np.array(sorted(range(len(labels)), key=lambda i: _order_key(labels[i])), dtype=np.int64)
        if self.distance == "hierarchical":
            assert self.hierarchy is not None
            self._tree = _tree(self.hierarchy.labels(labels, column))

    def distances(self, groups: Groups) -> np.ndarray:
        hist = self._hist(groups).astype(np.float64)
        q = hist / hist.sum(axis=1, keepdims=True)
        diff = self._p[None, :] - q
        if self.distance == "equal":
            return np.asarray(0.5 * np.abs(diff).sum(axis=1))
        if self.distance == "ordered":
            m = diff.shape[1]
            if m < 2:
                return np.zeros(diff.shape[0])
            return np.asarray(np.abs(np.cumsum(diff[:, self._order], axis=1)).sum(axis=1) / (m - 1))
        cost = np.zeros(diff.shape[0])
        extras = diff  # the children's extras at the current level, starting with the leaves
        for weight, children in self._tree:
            # children: (nodes at this level) x (nodes one level below) membership
            pos = np.clip(extras, 0, None) @ children.T
            neg = np.clip(-extras, 0, None) @ children.T
            cost += weight * np.minimum(pos, neg).sum(axis=1)
            extras = pos - neg
        return cost

    def passes(self, groups: Groups) -> Mask:
        return np.asarray(self.distances(groups) <= self.t + 1e-12)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "t": self.t, "distance": self.distance}


def _tree(chains: list[tuple[str, ...]]) -> list[tuple[float, np.ndarray]]:
    """Per internal level of the hierarchy: its weight (level / height) and children membership matrix."""
    height = len(chains[0]) - 1
    levels = []
    below = [c[0] for c in chains]
    below_index = {v: i for i, v in enumerate(below)}
    for level in range(1, height + 1):
        nodes: dict[str, int] = {}
        pairs = set()
        for chain in chains:
            node = nodes.setdefault(chain[level], len(nodes))
            pairs.add((node, below_index[chain[level - 1]]))
        member = np.zeros((len(nodes), len(below_index)))
        for node, child in pairs:
            member[node, child] = 1.0
        levels.append((level / height, member))
        below_index = nodes
    return levels


def _order_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def _check_l(value: float) -> None:
    if value < 1:
        raise ConfigError(f"l must be >= 1, not {value!r}")


def needs_sensitive(models: list[PrivacyModel]) -> bool:
    return any(m.needs_sensitive for m in models)


L_VARIANTS = ("distinct", "entropy", "recursive")
T_DISTANCES = ("equal", "ordered", "hierarchical")


def build_models(
    *,
    k: int | None = None,
    l: float | None = None,  # noqa: E741
    l_variant: str = "distinct",
    c: float = 3.0,
    t: float | None = None,
    t_distance: str = "equal",
    sensitive: str | None = None,
    sensitive_hierarchy: Hierarchy | None = None,
) -> list[PrivacyModel]:
    """The models named by simple parameters (the CLI's and the policy's form)."""
    models: list[PrivacyModel] = []
    if k is not None:
        models.append(KAnonymity(k))
    if (l is not None or t is not None) and sensitive is None:
        raise ConfigError("l-diversity and t-closeness need the sensitive attribute (--sensitive)")
    if l is not None:
        if l_variant not in L_VARIANTS:
            raise ConfigError(f"l-diversity variant must be one of {', '.join(L_VARIANTS)}, not '{l_variant}'")
        if l_variant == "distinct":
            if float(l) != int(l):
                raise ConfigError("distinct l-diversity needs a whole number l")
            models.append(DistinctLDiversity(int(l)))
        elif l_variant == "entropy":
            models.append(EntropyLDiversity(l))
        else:
            if float(l) != int(l):
                raise ConfigError("recursive (c,l)-diversity needs a whole number l")
            models.append(RecursiveCLDiversity(c, int(l)))
    if t is not None:
        if t_distance not in T_DISTANCES:
            raise ConfigError(f"t-closeness distance must be one of {', '.join(T_DISTANCES)}, not '{t_distance}'")
        models.append(TCloseness(t, t_distance, sensitive_hierarchy))
    if not models:
        raise ConfigError("name at least one privacy model (k, l or t)")
    return models
