"""What a federated run costs in privacy, computed by Google's ``dp-accounting`` (RDP), never by hand.

Two guarantees, two units of privacy:

- ``client``: client-level DP (McMahan et al. 2018), Flower's client-side fixed clipping: every client's update is
  clipped to ``clip`` and the server adds Gaussian noise of ``noise_multiplier * clip / min_clients`` to the mean.
  One Gaussian release per round, no sampling amplification (every connected client takes part). Dividing by the
  fewest clients a round may aggregate keeps the guarantee when clients drop out.
- ``sample``: record-level DP, DP-SGD on every client: ``local_steps`` Poisson-sampled Gaussian steps per round.
  Clients hold disjoint records, so the run's epsilon is one client's (parallel composition).

The cost of round r is epsilon(r) - epsilon(r - 1) at the run's delta (delta is charged with the first round), so
the ledger's sum after any number of rounds is exactly the accountant's epsilon for those rounds.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

from veil.errors import BudgetExceeded, ConfigError, MissingExtraError

Mode = Literal["none", "client", "sample"]
MODES: tuple[Mode, ...] = ("none", "client", "sample")


def _dpa() -> Any:
    try:
        import dp_accounting
    except ImportError as exc:
        raise MissingExtraError("learn", exc.name or "dp_accounting") from None
    return dp_accounting


@dataclass(frozen=True)
class DpPlan:
    mode: Mode
    rounds: int
    noise_multiplier: float = 0.0
    clip: float = 1.0
    delta: float = 1e-5
    sample_rate: float = 0.01  # sample mode: the probability a record is in a step's batch
    local_steps: int = 100  # sample mode: DP-SGD steps per round

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown DP mode '{self.mode}'; one of: {', '.join(MODES)}")
        if self.rounds < 1:
            raise ConfigError("a federated run needs at least one round")
        if self.mode == "none":
            return
        if not (math.isfinite(self.noise_multiplier) and self.noise_multiplier > 0):
            raise ConfigError("the noise multiplier must be a positive number")
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise ConfigError("the clipping norm must be a positive number")
        if not 0 < self.delta < 1:
            raise ConfigError("delta must be in (0, 1)")
        if self.mode == "sample" and not (0 < self.sample_rate <= 1 and self.local_steps >= 1):
            raise ConfigError("DP-SGD needs a sample rate in (0, 1] and at least one local step")

    @property
    def private(self) -> bool:
        return self.mode != "none"

    def _event(self, rounds: int) -> Any:
        dpa = _dpa()
        gaussian = dpa.GaussianDpEvent(self.noise_multiplier)
        if self.mode == "client":
            return dpa.SelfComposedDpEvent(gaussian, rounds)
        sampled = dpa.PoissonSampledDpEvent(self.sample_rate, gaussian)
        return dpa.SelfComposedDpEvent(sampled, rounds * self.local_steps)

    @functools.lru_cache(maxsize=256)  # noqa: B019  (plans are small frozen values; a round asks for e(r) and e(r-1))
    def epsilon(self, rounds: int | None = None) -> float:
        """Epsilon at ``delta`` after ``rounds`` rounds (all of them by default)."""
        rounds = self.rounds if rounds is None else rounds
        if not self.private or rounds == 0:
            return 0.0
        accountant = _dpa().rdp.RdpAccountant()
        accountant.compose(self._event(rounds))
        return float(accountant.get_epsilon(self.delta))

    def round_cost(self, server_round: int) -> tuple[float, float]:
        """(epsilon, delta) charged for round ``server_round`` (1-based)."""
        if not self.private:
            return 0.0, 0.0
        cost = self.epsilon(server_round) - self.epsilon(server_round - 1)
        return max(cost, 0.0), self.delta if server_round == 1 else 0.0

    def mechanism(self) -> str:
        if self.mode == "client":
            return (f"federated, client-level Gaussian (Flower client-side fixed clipping, C={self.clip:g}, "
                    f"z={self.noise_multiplier:.4g}), RDP accountant")  # fmt: skip
        return (f"federated DP-SGD, record-level Gaussian (C={self.clip:g}, z={self.noise_multiplier:.4g}, "
                f"q={self.sample_rate:g}, {self.local_steps} steps/round), RDP accountant")  # fmt: skip


def calibrate(mode: Mode, target_epsilon: float, **plan: Any) -> DpPlan:
    """The plan with the smallest noise multiplier whose whole run stays within ``target_epsilon``."""
    if mode == "none":
        return DpPlan("none", **{k: v for k, v in plan.items() if k == "rounds"})
    if not (math.isfinite(target_epsilon) and target_epsilon > 0):
        raise ConfigError("the target epsilon must be a positive number")
    lo, hi = 0.01, 1.0
    while DpPlan(mode, noise_multiplier=hi, **plan).epsilon() > target_epsilon:
        lo, hi = hi, hi * 2
        if hi > 1e5:
            raise ConfigError(f"epsilon {target_epsilon:g} cannot be reached with these rounds and steps")
    while hi - lo > 1e-4 * hi:
        mid = (lo + hi) / 2
        if DpPlan(mode, noise_multiplier=mid, **plan).epsilon() > target_epsilon:
            lo = mid
        else:
            hi = mid
    return DpPlan(mode, noise_multiplier=hi, **plan)


def check_fits(ledger: Any, dataset: str, epsilon: float, delta: float) -> None:
    """A whole run's cost against what the dataset has left, before any round (no budget: BudgetExceeded too)."""
    budget = ledger.budget(dataset)
    if epsilon > budget.remaining_epsilon or delta > budget.remaining_delta:
        raise BudgetExceeded(
            f"the run needs epsilon={epsilon:.4g}, delta={delta:g} but dataset '{dataset}' has "
            f"epsilon={budget.remaining_epsilon:.4g}, delta={budget.remaining_delta:g} left; no round was run",
            hint="fewer rounds, more noise (a smaller target epsilon) or a larger budget",
        )
