"""The privacy budget ledger: per dataset, a total (epsilon, delta) that releases may never exceed.

Every release first *reserves* its cost in one write transaction that reads what is spent and inserts the spend
only if it fits (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the budget row is locked ``FOR UPDATE``), so concurrent
queries cannot overspend together. A reservation is never given back, even when the release fails afterwards:
the noise may already have been drawn, and an unused reservation only wastes budget, it never leaks.

Costs compose sequentially (epsilons add, deltas add). Queries that use zCDP (Gaussian noise) record their rho and
are charged the (epsilon, delta) OpenDP converts it to. Every spend is also written to the tamper-evident audit log.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from veil.errors import BudgetExceeded, ConfigError
from veil.storage.engine import write_tx
from veil.storage.schema import dp_budgets, dp_spends


def exact(value: float) -> Decimal:
    """A cost or budget as the decimal it was written as (OpenDP's maps and users give floats): sums are exact,
    so ten spends of 0.1 fit a budget of 1.0 with no slack, and 0.1 + 0.5 is 0.6, not 0.6000000000000001."""
    return Decimal(repr(float(value)))


@dataclass
class Spend:
    id: int
    at: str
    actor: str
    query: str
    mechanism: str
    epsilon: float
    delta: float
    rho: float | None = None


@dataclass
class Budget:
    dataset: str
    epsilon: float
    delta: float
    spent_epsilon: float = 0.0
    spent_delta: float = 0.0
    spends: list[Spend] = field(default_factory=list)
    left_epsilon: float | None = None  # exact (decimal) differences, set by the ledger
    left_delta: float | None = None

    @property
    def remaining_epsilon(self) -> float:
        left = self.left_epsilon if self.left_epsilon is not None else self.epsilon - self.spent_epsilon
        return max(left, 0.0)

    @property
    def remaining_delta(self) -> float:
        left = self.left_delta if self.left_delta is not None else self.delta - self.spent_delta
        return max(left, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "spent_epsilon": self.spent_epsilon,
            "spent_delta": self.spent_delta,
            "remaining_epsilon": self.remaining_epsilon,
            "remaining_delta": self.remaining_delta,
            "releases": len(self.spends),
        }


def _check_cost(epsilon: float, delta: float) -> None:
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise ConfigError(f"epsilon must be a finite number >= 0, not {epsilon!r}")
    if not (math.isfinite(delta) and 0 <= delta < 1):
        raise ConfigError(f"delta must be in [0, 1), not {delta!r}")


class Ledger:
    """Budgets and spends in the vault database (``veil_dp_budgets``, ``veil_dp_spends``)."""

    def __init__(self, engine: Engine, audit: Any = None) -> None:
        self.engine = engine
        self.audit = audit

    @classmethod
    def of(cls, vault: Any) -> Ledger:
        return cls(vault.engine, vault.audit)

    def set_budget(self, dataset: str, epsilon: float, delta: float = 0.0, *, actor: str = "cli") -> Budget:
        """Create the dataset's budget, or change it. Lowering it below what is spent is refused."""
        _check_name(dataset)
        _check_cost(epsilon, delta)
        if epsilon <= 0:
            raise ConfigError("a privacy budget needs epsilon > 0")
        with write_tx(self.engine) as conn:
            row = self._lock(conn, dataset)
            spent_e, spent_d = self._spent(conn, dataset)
            if exact(epsilon) < spent_e or exact(delta) < spent_d:
                raise BudgetExceeded(
                    f"dataset '{dataset}' has already spent epsilon={spent_e:g}, delta={spent_d:g}: "
                    f"the budget cannot be set below that"
                )
            if row is None:
                conn.execute(dp_budgets.insert().values(dataset=dataset, epsilon=epsilon, delta=delta))
            else:
                conn.execute(
                    dp_budgets.update().where(dp_budgets.c.dataset == dataset).values(epsilon=epsilon, delta=delta)
                )
        if self.audit is not None:
            previous = None if row is None else {"epsilon": row.epsilon, "delta": row.delta}
            self.audit.append(actor, "dp-budget", scope=dataset, epsilon=epsilon, delta=delta, previous=previous)
        return self.budget(dataset)

    def budget(self, dataset: str) -> Budget:
        with self.engine.connect() as conn:
            row = conn.execute(select(dp_budgets).where(dp_budgets.c.dataset == dataset)).first()
            if row is None:
                raise _no_budget(dataset)
            spends = [
                Spend(r.id, r.at, r.actor, r.query, r.mechanism, r.epsilon, r.delta, r.rho)
                for r in conn.execute(select(dp_spends).where(dp_spends.c.dataset == dataset).order_by(dp_spends.c.id))
            ]
        spent_e = sum((exact(s.epsilon) for s in spends), Decimal(0))
        spent_d = sum((exact(s.delta) for s in spends), Decimal(0))
        return Budget(dataset, row.epsilon, row.delta, float(spent_e), float(spent_d), spends,
                      float(exact(row.epsilon) - spent_e), float(exact(row.delta) - spent_d))  # fmt: skip

    def datasets(self) -> list[Budget]:
        with self.engine.connect() as conn:
            names = [r.dataset for r in conn.execute(select(dp_budgets.c.dataset).order_by(dp_budgets.c.dataset))]
        return [self.budget(n) for n in names]

    def reserve(
        self,
        dataset: str,
        epsilon: float,
        delta: float = 0.0,
        *,
        query: str,
        mechanism: str,
        rho: float | None = None,
        actor: str = "cli",
    ) -> int:
        """Charge a release to the dataset's budget, atomically; raises BudgetExceeded (charging nothing) if it
        does not fit. Returns the spend's id."""
        _check_cost(epsilon, delta)
        with write_tx(self.engine) as conn:
            row = self._lock(conn, dataset)
            if row is None:
                raise _no_budget(dataset)
            spent_e, spent_d = self._spent(conn, dataset)
            if spent_e + exact(epsilon) > exact(row.epsilon) or spent_d + exact(delta) > exact(row.delta):
                raise BudgetExceeded(
                    f"'{query}' needs epsilon={epsilon:g}, delta={delta:g} but dataset '{dataset}' has "
                    f"epsilon={max(exact(row.epsilon) - spent_e, 0):g}, "
                    f"delta={max(exact(row.delta) - spent_d, 0):g} left "
                    f"(of {row.epsilon:g}, {row.delta:g}); nothing was released",
                    hint="ask with a smaller epsilon (and a larger expected error) or raise the budget",
                )
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            result = conn.execute(dp_spends.insert().values(dataset=dataset, at=at, actor=actor, query=query,
                                                            mechanism=mechanism, epsilon=epsilon, delta=delta,
                                                            rho=rho))  # fmt: skip
            key = result.inserted_primary_key
            assert key is not None
            spend_id = int(key[0])
        if self.audit is not None:
            self.audit.append(actor, "dp-release", scope=dataset, query=query, mechanism=mechanism,
                              epsilon=epsilon, delta=delta, rho=rho, spend=spend_id)  # fmt: skip
        return spend_id

    def _lock(self, conn: Any, dataset: str) -> Any:
        stmt = select(dp_budgets).where(dp_budgets.c.dataset == dataset)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return conn.execute(stmt).first()

    @staticmethod
    def _spent(conn: Any, dataset: str) -> tuple[Decimal, Decimal]:
        rows = conn.execute(select(dp_spends.c.epsilon, dp_spends.c.delta).where(dp_spends.c.dataset == dataset))
        spent_e, spent_d = Decimal(0), Decimal(0)
        for eps, dlt in rows:
            spent_e += exact(eps)
            spent_d += exact(dlt)
        return spent_e, spent_d

    def history(self, dataset: str) -> Iterator[Spend]:
        yield from self.budget(dataset).spends


def _no_budget(dataset: str) -> BudgetExceeded:
    return BudgetExceeded(
        f"dataset '{dataset}' has no privacy budget",
        hint=f"set one first: veil dp budget '{dataset}' --set EPSILON [--delta DELTA]",
    )


def _check_name(dataset: str) -> None:
    if not dataset or len(dataset) > 400:
        raise ConfigError("a dataset name is 1-400 characters")
