"""MicroBatcher: concurrent callers share batches and each gets exactly its own results."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from veil.detect.batching import MicroBatcher
from veil.errors import ConfigError


def test_each_caller_gets_its_own_results_and_batches_are_shared() -> None:
    sizes: list[int] = []
    gate = threading.Event()

    def fn(items: list[int]) -> list[int]:
        gate.wait(5)  # hold the first batch so the others queue up behind it
        sizes.append(len(items))
        return [i * 10 for i in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(fn)
    with ThreadPoolExecutor(32) as pool:
        futures = [pool.submit(batcher, [i, i + 1000]) for i in range(64)]
        gate.set()
        results = [f.result() for f in futures]
    assert results == [[i * 10, (i + 1000) * 10] for i in range(64)]
    assert sum(sizes) == 128 and len(sizes) < 64  # shared batches, nothing lost


def test_failure_reaches_every_waiting_caller_and_the_worker_survives() -> None:
    def fn(items: list[str]) -> list[str]:
        if "bad" in items:
            raise ValueError("boom")
        return [s.upper() for s in items]

    batcher: MicroBatcher[str, str] = MicroBatcher(fn)
    with pytest.raises(ValueError, match="boom"):
        batcher(["bad"])
    assert batcher(["ok"]) == ["OK"]
    assert batcher([]) == []


def test_wrong_result_count_is_an_error_not_a_mixup() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: items[:-1])
    with pytest.raises(RuntimeError, match="returned 1 results for 2 items"):
        batcher([1, 2])


def test_bad_size_is_refused() -> None:
    with pytest.raises(ConfigError):
        MicroBatcher(lambda items: items, max_items=0)
