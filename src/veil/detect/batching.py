"""Micro-batching: many threads submit small jobs, one worker runs whatever is queued as one batch.

A spaCy pipeline is much cheaper per text inside one ``nlp.pipe`` call than called once per text, and it is not
safe to share between threads anyway. The guard serves many concurrent requests, each with one short prompt:
:class:`MicroBatcher` lets every request thread submit its texts and wait, while a single worker thread drains
the queue and runs one batch for all of them. Nothing waits for a timer: a batch starts as soon as the worker
is free, so a lone request pays no extra latency and a burst is served in a few large batches.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from veil.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Run ``fn`` (a list of items to a list of results, same length) for callers on many threads."""

    def __init__(self, fn: Callable[[list[T]], list[R]], *, max_items: int = 512, name: str = "veil-batcher") -> None:
        if max_items < 1:
            raise ConfigError("max_items must be >= 1")
        self._fn = fn
        self._max_items = max_items
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Sequence[T], Future[list[R]]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = -1  # the worker thread belongs to one process: a forked child starts its own

    def __call__(self, items: Sequence[T]) -> list[R]:
        if not items:
            return []
        self._ensure_worker()
        future: Future[list[R]] = Future()
        self._queue.put((items, future))
        return future.result()

    def _ensure_worker(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name=self._name, daemon=True).start()
                self._pid = os.getpid()

    def _run(self, jobs: queue.SimpleQueue[tuple[Sequence[T], Future[list[R]]]]) -> None:
        while True:
            batch = [jobs.get()]
            size = len(batch[0][0])
            while size < self._max_items:
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    break
                batch.append(job)
                size += len(job[0])
            self._serve(batch)

    def _serve(self, batch: list[tuple[Sequence[T], Future[list[R]]]]) -> None:
        flat = [item for items, _ in batch for item in items]
        try:
            results = self._fn(flat)
            if len(results) != len(flat):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(flat)} items")
        except BaseException as exc:  # every waiting caller gets the failure; the worker lives on
            for _, future in batch:
                future.set_exception(exc)
            return
        at = 0
        for items, future in batch:
            future.set_result(results[at : at + len(items)])
            at += len(items)
