"""A federated client's data: its own partition, passed through its own Veil policy and purpose first.

The client plans its columns exactly as ``veil anonymize-table --purpose`` does (columns the purpose does not need
are dropped, personal data pseudonymized, masked or generalized as the policy says), applies the plan, and only
then encodes the model's features. A feature column the policy removed, or one the partition does not have, stops
the client with an error naming the column (never a value).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from veil.errors import InputError
from veil.learn.fl.spec import FeatureSpec


@dataclass
class ClientData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    dropped: list[str]  # columns the client's policy removed before training


_CACHE: dict[str, ClientData] = {}


def load_client(data: str, policy: str | None, purpose: str | None, spec: FeatureSpec, *,
                test_fraction: float = 0.2, vault: str | None = None) -> ClientData:  # fmt: skip
    """The partition at ``data`` (a file or DB URL as ``veil anonymize-table`` reads), prepared for ``spec``.
    Cached for the same file, policy, purpose and spec (a ClientApp answers every round)."""
    key = _cache_key(data, policy, purpose, spec)
    if key not in _CACHE:
        _CACHE[key] = _cached(key) or _store(key, _prepare(data, policy, purpose, spec, test_fraction, vault))
    return _CACHE[key]


def _cache_file(key: str) -> Path:
    from veil.storage.engine import veil_home

    return veil_home() / "fl-cache" / f"{key[:32]}.npz"


def _cached(key: str) -> ClientData | None:
    """Flower starts a ClientApp process per message: the prepared arrays are kept in the client's own Veil home
    (mode 0600) so a round does not re-read and re-anonymize the partition."""
    path = _cache_file(key)
    try:
        with np.load(path, allow_pickle=False) as z:
            return ClientData(z["x_train"], z["y_train"], z["x_test"], z["y_test"], [str(c) for c in z["dropped"]])
    except (OSError, KeyError, ValueError):
        return None


def _store(key: str, data: ClientData) -> ClientData:
    from veil.textio_out import temp_beside

    path = _cache_file(key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = temp_beside(path)  # mode 0600; a killed writer's leftovers are swept
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test,
                     dropped=np.asarray(data.dropped, dtype=str))  # fmt: skip
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return data


def _cache_key(data: str, policy: str | None, purpose: str | None, spec: FeatureSpec) -> str:
    parts = [data, policy or "", purpose or "", spec.to_json()]
    for path in (data, policy):
        if path and Path(path).is_file():
            parts.append(str(Path(path).stat().st_mtime_ns))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def check_client(data: str, policy: str | None, purpose: str | None, spec: FeatureSpec) -> None:
    """What ``load_client`` would refuse, found without any vault, cache or audit record of the caller's: the policy
    runs against a throwaway vault with a throwaway key."""
    import secrets
    import tempfile

    from veil.vault.keys import MasterKey
    from veil.vault.vault import Vault

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Vault(f"sqlite:///{tmp}/check.db", master_key=MasterKey(secrets.token_bytes(32), "check"))
        _prepare(data, policy, purpose, spec, 0.2, scratch, audit=False)
        scratch.engine.dispose()


def _prepare(data: str, policy_path: str | None, purpose: str | None, spec: FeatureSpec,
             test_fraction: float, vault: Any, *, audit: bool = True) -> ClientData:  # fmt: skip
    frame = _read(data)
    dropped: list[str] = []
    if policy_path:
        frame, dropped = _apply_policy(frame, policy_path, purpose, vault, data, audit)
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        because = " (the client's policy removed it for this purpose)" if set(missing) & set(dropped) else ""
        raise InputError(f"the client's data lacks the model's column(s) {', '.join(missing)}{because}")
    if frame.height < 2:
        raise InputError("a client needs at least 2 rows")
    x = spec.encoder.transform(frame)
    y = (np.asarray(frame[spec.label].cast(str).fill_null("").to_list()) == spec.positive).astype(np.float64)
    order = np.random.default_rng(0).permutation(frame.height)  # a fixed split: every round tests the same rows
    n_test = max(1, round(frame.height * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return ClientData(x[train], y[train], x[test], y[test], dropped)


def _read(data: str) -> Any:
    from veil.tabular.frames import locate, read_frame

    frame = read_frame(locate(data))
    if frame.height == 0:
        raise InputError("the client's partition is empty")
    return frame


def _apply_policy(frame: Any, policy_path: str, purpose: str | None, vault: Any, data: str,
                  audit: bool) -> tuple[Any, list[str]]:  # fmt: skip
    from veil.anonymizer import Anonymizer
    from veil.detect.columns import ColumnClassifier
    from veil.policy.loader import load_policy
    from veil.tabular.pipeline import TablePipeline, profile_frame
    from veil.tabular.plan import plan_columns
    from veil.vault.vault import Vault

    policy = load_policy(policy_path)
    if purpose is not None:
        policy.purpose(purpose)  # an unknown purpose is named before any work
    anonymizer = Anonymizer(policy, vault=Vault(vault) if isinstance(vault, str) else vault)
    profiles = profile_frame(frame.head(policy.tables.sample_rows), ColumnClassifier(anonymizer.detector))
    actions = plan_columns(policy, profiles, purpose)
    out = TablePipeline(anonymizer, actions, purpose).apply(frame)
    if audit:
        anonymizer.vault.audit.append("fl-client", "fl-prepare", scope=policy.scope, purpose=purpose or "",
                                      source=data, rows=frame.height,
                                      columns={a.column: a.summary for a in actions})  # fmt: skip
    return out, [a.column for a in actions if a.kind == "drop"]
