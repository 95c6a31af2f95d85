"""The release gate: a model's audit measured against the policy's ``models.require``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from veil.errors import ReleaseRefused
from veil.policy.watch import ModelRequirement


@dataclass(frozen=True)
class Verdict:
    passed: bool
    checks: list[tuple[str, float, float, bool]]  # (measure, observed, limit, ok)

    def reasons(self) -> list[str]:
        return [f"{m} {seen:.4g} is above {limit:.4g}" for m, seen, limit, ok in self.checks if not ok]

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed,
                "checks": [{"measure": m, "observed": round(o, 4), "limit": li, "ok": ok}
                           for m, o, li, ok in self.checks]}  # fmt: skip


def judge(requirement: ModelRequirement | None, *, auc: float | None = None, tpr_1pct: float | None = None,
          exposures: Sequence[float] = ()) -> Verdict:  # fmt: skip
    """Each limit the requirement sets, checked where the audit measured it (an unmeasured limit is not judged)."""
    checks: list[tuple[str, float, float, bool]] = []
    if requirement is not None:
        limits = [("mia_auc", auc, requirement.mia_auc_max),
                  ("mia_tpr_at_1pct_fpr", tpr_1pct, requirement.mia_tpr_at_1pct_fpr_max),
                  ("canary_exposure", max(exposures) if exposures else None, requirement.canary_exposure_max)]
        checks = [(m, seen, lim, seen <= lim) for m, seen, lim in limits if seen is not None and lim is not None]
    return Verdict(all(ok for *_, ok in checks), checks)


def require(verdict: Verdict) -> None:
    """Refuse a release the gate failed (``ReleaseRefused``, VEIL-620)."""
    if not verdict.passed:
        raise ReleaseRefused("model release refused: " + "; ".join(verdict.reasons()))
