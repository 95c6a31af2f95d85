"""The Veil wrapper around a Flower strategy: every round is paid for in the ledger before a client trains.

``configure_fit`` reserves the round's (epsilon, delta) from the accountant (``DpPlan.round_cost``) in the
dataset's budget; if the ledger refuses, no client is asked to train (that round and every later one). A round is
charged once per run: a spend for the same run and round is found in the ledger and not charged again. Every
round leaves an ``fl-round`` audit record with the clients that took part and dropped.
"""

from __future__ import annotations

import time
from typing import Any

from flwr.common import EvaluateIns, EvaluateRes, FitIns, FitRes, Parameters, Scalar, parameters_to_ndarrays
from flwr.server.client_manager import ClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import Strategy

from veil.errors import BudgetExceeded
from veil.learn.fl.accounting import DpPlan
from veil.learn.fl.report import RunReport


class LedgerStrategy(Strategy):
    def __init__(self, inner: Strategy, plan: DpPlan, report: RunReport, *, ledger: Any = None,
                 audit: Any = None) -> None:  # fmt: skip
        self.inner = inner
        self.plan = plan
        self.report = report
        self.ledger = ledger
        self.audit = audit
        self.refused = False
        self.parameters: Parameters | None = None
        self._started: dict[int, float] = {}
        self._sampled: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"Veil ledger wrapper ({self.inner!r})"

    def initialize_parameters(self, client_manager: ClientManager) -> Parameters | None:
        self.parameters = self.inner.initialize_parameters(client_manager)
        return self.parameters

    def configure_fit(self, server_round: int, parameters: Parameters,
                      client_manager: ClientManager) -> list[tuple[ClientProxy, FitIns]]:  # fmt: skip
        row = self.report.row(server_round)
        self._started[server_round] = time.perf_counter()
        if self.refused or not self._charge(server_round):
            row.status = "refused"
            self.report.save()
            return []
        fits: list[tuple[ClientProxy, FitIns]] = self.inner.configure_fit(server_round, parameters, client_manager)
        for _, ins in fits:
            ins.config["server_round"] = server_round
        self._sampled[server_round] = len(fits)
        self.report.save()
        return fits

    def _charge(self, server_round: int) -> bool:
        epsilon, delta = self.plan.round_cost(server_round)
        row = self.report.row(server_round)
        row.epsilon_round, row.epsilon_total = epsilon, self.plan.epsilon(server_round)
        if self.ledger is None or not self.plan.private:
            return True
        query = f"federated run {self.report.run_id} round {server_round}"
        if any(s.query == query for s in self.ledger.history(self.report.dataset)):
            row.note = "already charged"
            return True
        try:
            self.ledger.reserve(self.report.dataset, epsilon, delta, query=query, mechanism=self.plan.mechanism(),
                                actor="fl-server")  # fmt: skip
        except BudgetExceeded as exc:
            self.refused = True
            row.epsilon_round, row.note = 0.0, exc.message
            return False
        return True

    def aggregate_fit(self, server_round: int, results: list[tuple[ClientProxy, FitRes]],
                      failures: list[Any]) -> tuple[Parameters | None, dict[str, Scalar]]:  # fmt: skip
        aggregated, metrics = self.inner.aggregate_fit(server_round, results, failures)
        row = self.report.row(server_round)
        row.clients = len(results)
        row.dropped = max(self._sampled.get(server_round, 0) - len(results), 0)
        row.status = "done" if aggregated is not None else "no-update"
        if aggregated is not None:
            self.parameters = aggregated
        self._audit(server_round)
        self.report.save()
        return aggregated, metrics

    def configure_evaluate(self, server_round: int, parameters: Parameters,
                           client_manager: ClientManager) -> list[tuple[ClientProxy, EvaluateIns]]:  # fmt: skip
        row = self.report.row(server_round)
        if row.status == "refused":
            return []
        if row.status == "running":  # the fit stage ended without an aggregate (SecAgg+ halted: too few left)
            row.status, row.dropped = "no-update", self._sampled.get(server_round, 0)
            self._audit(server_round)
        fits: list[tuple[ClientProxy, EvaluateIns]] = self.inner.configure_evaluate(server_round, parameters,
                                                                                    client_manager)  # fmt: skip
        return fits

    def aggregate_evaluate(self, server_round: int, results: list[tuple[ClientProxy, EvaluateRes]],
                           failures: list[Any]) -> tuple[float | None, dict[str, Scalar]]:  # fmt: skip
        loss, metrics = self.inner.aggregate_evaluate(server_round, results, failures)
        row = self.report.row(server_round)
        row.loss = None if loss is None else round(float(loss), 5)
        if "accuracy" in metrics:
            row.accuracy = round(float(metrics["accuracy"]), 5)
        row.seconds = round(time.perf_counter() - self._started.get(server_round, time.perf_counter()), 3)
        self.report.save()
        return loss, metrics

    def evaluate(self, server_round: int, parameters: Parameters) -> tuple[float, dict[str, Scalar]] | None:
        out: tuple[float, dict[str, Scalar]] | None = self.inner.evaluate(server_round, parameters)
        return out

    def final_arrays(self) -> list[Any]:
        return [] if self.parameters is None else list(parameters_to_ndarrays(self.parameters))

    def _audit(self, server_round: int) -> None:
        if self.audit is None:
            return
        row = self.report.row(server_round)
        self.audit.append("fl-server", "fl-round", scope=self.report.dataset, run=self.report.run_id,
                          round=server_round, status=row.status, clients=row.clients, dropped=row.dropped,
                          epsilon=row.epsilon_round, epsilon_total=row.epsilon_total)  # fmt: skip
