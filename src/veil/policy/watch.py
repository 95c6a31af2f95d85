"""Policy sections for what watches the data's use: model release gates and the monitor's settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class ModelRequirement(BaseModel):
    """What a trained model must show before it is released (``veil audit-model`` checks it; exit code 1)."""

    model_config = ConfigDict(extra="forbid")
    mia_auc_max: float | None = Field(
        default=None, ge=0.5, le=1.0, description="the strongest membership attack's AUC at most this"
    )
    mia_tpr_at_1pct_fpr_max: float | None = Field(
        default=None, ge=0.0, le=1.0, description="its true-positive rate at 1 % false positives at most this"
    )
    canary_exposure_max: float | None = Field(
        default=None, ge=0.0, description="every planted canary's exposure (bits) at most this"
    )


class Models(BaseModel):
    model_config = ConfigDict(extra="forbid")
    require: ModelRequirement | None = None


class MonitorPolicy(BaseModel):
    """``veil monitor``: how baselines are learned and where alerts go."""

    model_config = ConfigDict(extra="forbid")
    warmup_days: float = Field(default=3.0, ge=0.0, description="no alert from a learned baseline before this")
    sensitivity: float = Field(
        default=1e-4, gt=0.0, lt=0.5, description="tail probability below which a value is anomalous"
    )
    refusal_burst: int = Field(default=10, ge=2, description="refusals of one principal or address in 10 minutes")
    dp_plan_days: float | None = Field(
        default=None, gt=0, description="a DP budget should last this long; burning faster alerts"
    )
    webhook: HttpUrl | None = Field(default=None, description="alerts are POSTed here as JSON")
    webhook_secret_env: str | None = Field(
        default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="environment variable with the webhook's HMAC key"
    )
