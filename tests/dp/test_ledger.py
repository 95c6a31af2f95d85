"""The budget is checked before every release and never overspent, also under concurrent spending."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from tests.dp.conftest import KEY
from veil.dp import Ledger
from veil.errors import BudgetExceeded, ConfigError
from veil.vault import Vault


def test_spend_until_the_budget_is_gone(dp_vault: Vault) -> None:
    ledger = Ledger.of(dp_vault)
    with pytest.raises(BudgetExceeded, match="no privacy budget"):
        ledger.reserve("adult", 0.1, query="count", mechanism="laplace")
    ledger.set_budget("adult", 1.0, 1e-6)
    for _ in range(10):  # ten spends of 0.1 fit a budget of 1.0 exactly (float slack)
        ledger.reserve("adult", 0.1, query="count", mechanism="laplace")
    with pytest.raises(BudgetExceeded, match=r"needs epsilon=0.01.*nothing was released"):
        ledger.reserve("adult", 0.01, query="count", mechanism="laplace")
    budget = ledger.budget("adult")
    assert budget.spent_epsilon == pytest.approx(1.0) and len(budget.spends) == 10
    with pytest.raises(BudgetExceeded, match="below that"):
        ledger.set_budget("adult", 0.5, 1e-6)
    ledger.set_budget("adult", 2.0, 1e-6)
    ledger.reserve("adult", 0.5, 5e-7, query="count by state", mechanism="laplace threshold")
    with pytest.raises(BudgetExceeded, match="delta"):
        ledger.reserve("adult", 0.1, 6e-7, query="count by state", mechanism="laplace threshold")
    actions = [r["action"] for r in dp_vault.audit.records()]
    assert actions.count("dp-release") == 11 and actions.count("dp-budget") == 2
    assert dp_vault.audit.verify().ok


def test_bad_costs_are_refused(dp_vault: Vault) -> None:
    ledger = Ledger.of(dp_vault)
    with pytest.raises(ConfigError, match="epsilon > 0"):
        ledger.set_budget("x", 0.0)
    ledger.set_budget("x", 1.0)
    for eps, delta in ((-1.0, 0.0), (float("nan"), 0.0), (0.1, 1.0)):
        with pytest.raises(ConfigError):
            ledger.reserve("x", eps, delta, query="q", mechanism="m")
    assert ledger.budget("x").spends == []


def test_concurrent_spends_never_exceed_the_budget(dp_vault: Vault) -> None:
    ledger = Ledger.of(dp_vault)
    ledger.set_budget("shared", 1.0)
    granted: list[int] = []
    refused: list[int] = []

    def worker() -> None:
        for _ in range(10):
            try:
                granted.append(ledger.reserve("shared", 0.07, query="sum", mechanism="laplace"))
            except BudgetExceeded:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    budget = ledger.budget("shared")
    assert len(granted) == 14 and len(refused) == 46  # floor(1.0 / 0.07) = 14
    assert budget.spent_epsilon <= 1.0 + 1e-9


def _spend_in_process(url: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ledger = Ledger.of(Vault(url, master_key=KEY))
    ok = 0
    for _ in range(8):
        try:
            ledger.reserve("procs", 0.11, query="mean", mechanism="laplace", actor="proc")
            ok += 1
        except BudgetExceeded:
            pass
    results.put(ok)


def test_concurrent_processes(db_url: str, tmp_path: Path) -> None:
    Ledger.of(Vault(db_url, master_key=KEY)).set_budget("procs", 1.0)
    ctx = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_spend_in_process, args=(db_url, results)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    granted = sum(results.get(timeout=5) for _ in procs)
    assert granted == 9  # floor(1.0 / 0.11)
    assert Ledger.of(Vault(db_url, master_key=KEY)).budget("procs").spent_epsilon <= 1.0 + 1e-9


def test_the_ledger_sums_exactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0.1 + 0.5 is 0.6 (not 0.6000000000000001) and ten spends of 0.1 fit 1.0 with no slack (issue 14)."""
    import pytest as _pytest

    from veil.dp import Ledger
    from veil.errors import BudgetExceeded
    from veil.vault import MasterKey, Vault

    ledger = Ledger.of(Vault(f"sqlite:///{tmp_path / 'l.db'}", master_key=MasterKey(b"e" * 32, "test")))
    ledger.set_budget("d", 1.0)
    ledger.reserve("d", 0.1, query="q", mechanism="laplace")
    ledger.reserve("d", 0.5, query="q", mechanism="laplace")
    assert ledger.budget("d").spent_epsilon == 0.6 and ledger.budget("d").remaining_epsilon == 0.4
    for _ in range(4):
        ledger.reserve("d", 0.1, query="q", mechanism="laplace")
    assert ledger.budget("d").remaining_epsilon == 0.0
    with _pytest.raises(BudgetExceeded):
        ledger.reserve("d", 1e-12, query="q", mechanism="laplace")
