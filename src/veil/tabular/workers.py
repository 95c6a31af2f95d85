"""Run a table plan in other processes: local worker processes (``--jobs N``) or Spark executors.

A worker rebuilds the anonymizer from an :class:`AnonymizerSpec`: the policy as data, the vault's URL, and for
local workers the master key handed over the process pipe (Spark executors read theirs from their own
environment instead, so no key travels inside a task). Workers build their detector from the policy.

Local workers are *spawned*, not forked: polars' thread pool does not survive a fork. At most ``2 x jobs``
batches are in flight, so memory stays bounded however large the table, and results come back in input order.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from veil.anonymizer import Anonymizer
from veil.tabular.plan import ColumnAction

if TYPE_CHECKING:
    import polars as pl

    from veil.tabular.pipeline import TablePipeline
    from veil.vault.keys import MasterKey


@dataclass(frozen=True)
class AnonymizerSpec:
    policy: dict[str, Any]
    vault_url: str
    master: MasterKey | None = None  # None: the worker loads the key from its environment
    previous: tuple[MasterKey, ...] = ()

    @classmethod
    def of(cls, anonymizer: Anonymizer, *, with_keys: bool) -> AnonymizerSpec:
        vault = anonymizer.vault
        policy = anonymizer.policy.model_dump(mode="json")
        if not with_keys:
            return cls(policy, vault.url)
        return cls(policy, vault.url, vault.master, tuple(vault.previous))

    def build(self) -> Anonymizer:
        from veil.policy.model import Policy
        from veil.vault import Vault
        from veil.vault.keys import load_master_key

        master = self.master or load_master_key(create=False)
        vault = Vault(self.vault_url, master_key=master, previous_keys=list(self.previous) or None)
        return Anonymizer(Policy.model_validate(self.policy), vault=vault)


_BUILT: dict[str, Anonymizer] = {}


def worker_anonymizer(spec: AnonymizerSpec) -> Anonymizer:
    """One anonymizer per worker process and spec, built on first use."""
    key = repr((spec.policy, spec.vault_url))
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = spec.build()
    return found


_PIPELINE: TablePipeline | None = None


def _init(spec: AnonymizerSpec, actions: list[ColumnAction], purpose: str | None) -> None:
    global _PIPELINE
    from veil.tabular.pipeline import TablePipeline

    _PIPELINE = TablePipeline(worker_anonymizer(spec), actions, purpose)


def _apply(batch: pl.DataFrame) -> pl.DataFrame:
    assert _PIPELINE is not None
    return _PIPELINE.apply(batch)


def apply_parallel(
    pipeline: TablePipeline, batches: Iterator[pl.DataFrame], jobs: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(input batch, output batch) pairs in input order, computed by ``jobs`` spawned worker processes."""
    spec = AnonymizerSpec.of(pipeline.anonymizer, with_keys=True)
    init = (spec, pipeline.actions, pipeline.purpose)
    pending: deque[tuple[pl.DataFrame, Future[pl.DataFrame]]] = deque()
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_init, initargs=init) as pool:
        for batch in batches:
            pending.append((batch, pool.submit(_apply, batch)))
            if len(pending) >= 2 * jobs:
                first, future = pending.popleft()
                yield first, future.result()
        while pending:
            first, future = pending.popleft()
            yield first, future.result()
