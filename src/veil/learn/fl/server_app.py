"""The Flower ServerApp: FedAvg under Flower's DP wrapper and SecAgg+ workflow, inside Veil's ledger wrapper.

The vault (ledger and audit log) is the one the SuperLink's environment names (``VEIL_DB``): the server's
operator decides where the budget lives, not a run config a client could have written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flwr.app import Context
from flwr.common import Metrics, ndarrays_to_parameters
from flwr.server import LegacyContext, ServerConfig
from flwr.server.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg, Strategy
from flwr.server.workflow import DefaultWorkflow
from flwr.serverapp import Grid, ServerApp

from veil.errors import BudgetExceeded, VeilError
from veil.learn.fl import linear
from veil.learn.fl.accounting import check_fits
from veil.learn.fl.report import RunReport
from veil.learn.fl.secagg import TolerantSecAggPlus
from veil.learn.fl.spec import FeatureSpec, RunSettings
from veil.learn.fl.strategy import LedgerStrategy

app = ServerApp()
SECAGG_CLIPPING_RANGE = 16.0  # model parameters are quantized within [-16, 16] for the masked sum


@app.main()
def main(grid: Grid, context: Context) -> None:
    settings = RunSettings.from_run_config(dict(context.run_config))
    spec = settings.feature_spec()
    plan = settings.plan
    report = RunReport(str(context.run_id), settings.dataset, settings.mode,
                       plan.mechanism() if plan.private else "none", settings.delta, settings.rounds,
                       plan.epsilon())  # fmt: skip
    if settings.report_dir:
        report.path = Path(settings.report_dir) / "report.json"
    vault = _vault()
    ledger = _ledger(vault) if plan.private else None
    try:
        if ledger is not None:
            check_fits(ledger, settings.dataset, report.planned_epsilon, settings.delta)
        _wait_for_nodes(grid, settings.clients, settings.round_timeout)
        strategy = LedgerStrategy(_strategy(settings, spec), plan, report, ledger=ledger, audit=vault.audit)
        legacy = LegacyContext(context=context, strategy=strategy,
                               config=ServerConfig(num_rounds=settings.rounds, round_timeout=settings.round_timeout))
        _workflow(settings)(grid, legacy)
    except VeilError as exc:
        report.status, report.error = ("refused" if isinstance(exc, BudgetExceeded) else "failed"), exc.message
        report.save()
        return
    weights = strategy.final_arrays()
    if weights:
        report.model = {"kind": "veil-fl-logistic", "spec": json.loads(spec.to_json()),
                        "weights": weights[0].tolist(), "bias": float(weights[1][0])}  # fmt: skip
    report.status = "refused" if strategy.refused else "done"
    report.save()


def _vault() -> Any:
    from veil.vault.vault import Vault

    return Vault()


def _ledger(vault: Any) -> Any:
    from veil.dp.ledger import Ledger

    return Ledger.of(vault)


def _wait_for_nodes(grid: Grid, clients: int, timeout: float) -> None:
    """Start with every expected SuperNode connected (or after ``timeout`` with those that are)."""
    deadline = time.monotonic() + timeout
    while len(list(grid.get_node_ids())) < clients and time.monotonic() < deadline:
        time.sleep(0.5)


def _weighted(metrics: list[tuple[int, Metrics]]) -> Metrics:
    total = sum(n for n, _ in metrics)
    if not total:
        return {}
    out: dict[str, Any] = {}
    for key in ("accuracy",):
        values = [(n, m[key]) for n, m in metrics if key in m]
        if values:
            out[key] = sum(n * float(v) for n, v in values) / sum(n for n, _ in values)  # type: ignore[arg-type,unused-ignore]
    return out


def _strategy(settings: RunSettings, spec: FeatureSpec) -> Strategy:
    base = FedAvg(
        fraction_fit=1.0, fraction_evaluate=1.0, min_fit_clients=settings.min_clients,
        min_evaluate_clients=1, min_available_clients=settings.min_clients, accept_failures=True,
        initial_parameters=ndarrays_to_parameters(linear.init(spec.width)),
        fit_metrics_aggregation_fn=lambda m: {}, evaluate_metrics_aggregation_fn=_weighted,
    )  # fmt: skip
    if settings.mode == "client":
        return DifferentialPrivacyClientSideFixedClipping(base, settings.noise_multiplier, settings.clip,
                                                          num_sampled_clients=settings.fewest)  # fmt: skip
    return base


def _workflow(settings: RunSettings) -> DefaultWorkflow:
    if not settings.secagg:
        return DefaultWorkflow()
    secagg = TolerantSecAggPlus(num_shares=settings.clients, reconstruction_threshold=settings.secagg_threshold,
                               max_weight=1.0, clipping_range=SECAGG_CLIPPING_RANGE,
                               timeout=settings.round_timeout)  # fmt: skip
    return DefaultWorkflow(fit_workflow=secagg)
