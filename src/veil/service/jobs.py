"""Background jobs (table scans and anonymizations): progress, cancel, one owner each.

A job runs in a worker thread; its progress callback raises :class:`Cancelled` once cancel is asked, so the
table pipeline stops between batches and its atomic sink leaves no output. A job is visible only to its owner
(and admins): anyone else gets "no such job", as for an id that never existed.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veil.errors import InputError, VeilError


class Cancelled(Exception):
    """Raised inside a job's work when it was cancelled."""


@dataclass
class Job:
    id: str
    owner: str
    kind: str
    status: str = "queued"  # queued | running | done | failed | cancelled
    rows: int = 0
    created: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] = field(default_factory=dict)
    output: Path | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "rows": self.rows, "created": self.created,
            "finished": self.finished, "result": self.result, "error": self.error or None,
            "output": self.output is not None and self.status == "done",
        }  # fmt: skip

    def progress(self, rows: int) -> None:
        if self.cancel.is_set():
            raise Cancelled
        self.rows += rows


class Jobs:
    def __init__(self, root: Path, workers: int = 2) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="veil-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def folder(self, job: Job) -> Path:
        path = self.root / job.id
        path.mkdir(exist_ok=True, mode=0o700)
        return path

    def new(self, owner: str, kind: str) -> Job:
        job = Job("job_" + secrets.token_hex(8), owner, kind)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def start(self, job: Job, work: Callable[[Job], dict[str, Any]]) -> None:
        def run() -> None:
            if job.cancel.is_set():
                job.status, job.finished = "cancelled", time.time()
                return
            job.status = "running"
            try:
                job.result = work(job)
                job.status = "done"
            except Cancelled:
                job.status = "cancelled"
            except VeilError as exc:
                job.status, job.error = "failed", exc.to_dict()
            except Exception as exc:  # never a traceback to the client, never the data in it
                job.status = "failed"
                job.error = {"code": "VEIL-000", "message": f"internal error ({type(exc).__name__})"}
            finally:
                job.finished = time.time()

        self._pool.submit(run)

    def get(self, job_id: str, principal: str, *, admin: bool = False) -> Job:
        job = self._jobs.get(job_id)
        if job is None or (job.owner != principal and not admin):
            raise InputError("no such job")
        return job

    def mine(self, principal: str, *, admin: bool = False) -> list[Job]:
        return [j for j in self._jobs.values() if admin or j.owner == principal]

    def forget(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        shutil.rmtree(self.root / job.id, ignore_errors=True)
