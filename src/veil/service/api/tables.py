"""``/v1/jobs``: table scans and anonymizations as background jobs (upload a file, or name a governance source
and table), with progress as server-sent events, cancel, and the output for the job's owner only."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from veil.errors import ConfigError, InputError
from veil.service.deps import PrincipalDep, StateDep, allowed
from veil.service.jobs import Job
from veil.service.state import State
from veil.vault.access import Session

router = APIRouter(prefix="/v1/jobs", tags=["tables"])
SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".ndjson")
_CHUNK = 1 << 20


async def _source(st: State, job: Job, file: UploadFile | None, source: str | None, table: str | None) -> str:
    """Where the job reads: an uploaded file saved in the job's folder, or a governance source's table. A client
    never names a server path (the service would read any file it can)."""
    if file is not None:
        name = Path(file.filename or "upload.csv").name
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES:
            raise InputError(f"upload a {', '.join(SUFFIXES)} file (not '{suffix or 'no extension'}')")
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem)[:80] or "upload"
        path = st.jobs.folder(job) / f"{safe}{suffix}"
        with path.open("wb") as fh:
            while chunk := await file.read(_CHUNK):
                fh.write(chunk)
        return str(path)
    return source_table(st, source, table)


def source_table(st: State, source: str | None, table: str | None) -> str:
    """``URL#table`` of a table in one of the policy's ``governance.sources`` (the only databases a client may
    name)."""
    if source is None or table is None:
        raise ConfigError("upload a file, or name a source and table of the policy's governance.sources")
    known = st.policy.governance.sources.get(source)
    if known is None:
        raise ConfigError(f"unknown source '{source}' (governance.sources)")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?", table):
        raise ConfigError("table must be a plain table name (schema.table allowed)")
    from veil.governance.sources import expand

    return f"{expand(known.url, source)}#{table}"


@router.post("/scan-table")
async def scan_table(
    st: StateDep, who: PrincipalDep, file: Annotated[UploadFile | None, File()] = None,
    source: Annotated[str | None, Form()] = None, table: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:  # fmt: skip
    """Classify every column of a table on a sample (a job; the result is the table's profile)."""
    job = st.jobs.new(who.principal, "scan-table")
    where = await _source(st, job, file, source, table)

    def work(j: Job) -> dict[str, Any]:
        from veil.tabular.frames import locate
        from veil.tabular.pipeline import scan_table as scan

        result = scan(locate(where, None, None, None), st.anonymizer.detector,
                      sample_rows=st.policy.tables.sample_rows).to_dict()  # fmt: skip
        result["source"] = source or Path(where).name
        return result

    st.jobs.start(job, work)
    return job.to_dict()


@router.post("/anonymize-table")
async def anonymize_table(
    st: StateDep,
    who: Annotated[Session, Depends(allowed("tokenize"))],
    file: Annotated[UploadFile | None, File()] = None,
    source: Annotated[str | None, Form()] = None,
    table: Annotated[str | None, Form()] = None,
    purpose: Annotated[str | None, Form()] = None,
    output: Annotated[str, Form()] = "csv",
    subject_column: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Minimize and anonymize a table by policy and purpose (a job); the output is downloaded by its owner."""
    if output not in ("csv", "parquet", "jsonl"):
        raise ConfigError("output must be csv, parquet or jsonl")
    if purpose is not None:
        st.access.authorize(who, "tokenize", purpose=purpose)
        st.policy.purpose(purpose)
    job = st.jobs.new(who.principal, "anonymize-table")
    where = await _source(st, job, file, source, table)
    job.output = st.jobs.folder(job) / f"output.{output}"

    def work(j: Job) -> dict[str, Any]:
        from veil.tabular.frames import locate
        from veil.tabular.location import parse_location
        from veil.tabular.pipeline import anonymize_table as run

        row_filter = None
        if subject_column:
            from veil.governance.enforce import consent_filter

            row_filter = consent_filter(st.vault, st.policy, purpose, subject_column)
        assert j.output is not None
        report = run(locate(where, None, None, None), parse_location(str(j.output), None), st.anonymizer,
                     purpose=purpose, overwrite=True, actor=who.principal, progress=j.progress,
                     row_filter=row_filter)  # fmt: skip
        doc = report.to_dict()
        doc["source"], doc["sink"] = source or Path(where).name, j.output.name
        return doc

    st.jobs.start(job, work)
    return job.to_dict()


@router.get("")
async def list_jobs(st: StateDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return [j.to_dict() for j in st.jobs.mine(who.principal, admin=who.role.allows("admin"))]


@router.get("/{job_id}")
async def get_job(job_id: str, st: StateDep, who: PrincipalDep) -> dict[str, Any]:
    return st.jobs.get(job_id, who.principal, admin=who.role.allows("admin")).to_dict()


@router.post("/{job_id}/cancel")
async def cancel_job(job_id: str, st: StateDep, who: PrincipalDep) -> dict[str, Any]:
    job = st.jobs.get(job_id, who.principal, admin=who.role.allows("admin"))
    job.cancel.set()
    return job.to_dict()


@router.get("/{job_id}/events")
async def job_events(job_id: str, st: StateDep, who: PrincipalDep) -> StreamingResponse:
    """Server-sent events: the job's state twice a second until it ends."""
    job = st.jobs.get(job_id, who.principal, admin=who.role.allows("admin"))

    async def events() -> AsyncIterator[str]:
        while True:
            doc = job.to_dict()
            yield f"event: {doc['status']}\ndata: {json.dumps(doc, default=str)}\n\n"
            if job.finished is not None:
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(events(), media_type="text/event-stream")


@router.get("/{job_id}/output")
async def job_output(job_id: str, st: StateDep, who: PrincipalDep) -> FileResponse:
    job = st.jobs.get(job_id, who.principal, admin=who.role.allows("admin"))
    if job.status != "done" or job.output is None or not job.output.exists():
        raise InputError(f"job {job.id} has no output ({job.status})")
    return FileResponse(job.output, filename=f"{job.id}{job.output.suffix}")


@router.post("/kanon")
async def kanon(
    st: StateDep,
    who: Annotated[Session, Depends(allowed("tokenize"))],
    qi: Annotated[str, Form(description="quasi-identifiers, comma-separated")],
    k: Annotated[int, Form(ge=2, le=10_000)],
    file: Annotated[UploadFile | None, File()] = None,
    source: Annotated[str | None, Form()] = None,
    table: Annotated[str | None, Form()] = None,
    suppression: Annotated[float, Form(ge=0, le=1)] = 0.0,
    method: Annotated[str, Form()] = "mondrian",
    output: Annotated[str, Form()] = "csv",
) -> dict[str, Any]:
    """k-anonymity on the quasi-identifiers (a job): Mondrian by default (no hierarchies needed); the report has
    the risk before and after, and the output is downloaded by its owner. The release is in the audit log."""
    if output not in ("csv", "parquet", "jsonl") or method not in ("mondrian", "optimal"):
        raise ConfigError("output must be csv, parquet or jsonl; method mondrian or optimal")
    job = st.jobs.new(who.principal, "kanon")
    where = await _source(st, job, file, source, table)
    job.output = st.jobs.folder(job) / f"output.{output}"
    qis = [q.strip() for q in qi.split(",") if q.strip()]

    def work(j: Job) -> dict[str, Any]:
        from veil.tabular.frames import locate, read_frame
        from veil.tabular.location import parse_location
        from veil.tabular.privacy.models import build_models
        from veil.tabular.privacy.release import protect
        from veil.tabular.writers import writing

        frame = read_frame(locate(where, None, None, None))
        release = protect(frame, qis, build_models(k=k), suppression=suppression, method=method)
        assert j.output is not None
        with writing(parse_location(str(j.output), None), overwrite=True) as sink:
            sink.write(release.frame)
        doc = {"source": source or Path(where).name, "out": j.output.name, **release.report}
        st.vault.audit.append(who.principal, "kanon", source=doc["source"], rows=doc.get("rows"),
                              models=doc.get("models"), method=method,
                              smallest_class=(doc.get("risk_after") or {}).get("smallest_class"))  # fmt: skip
        return doc

    st.jobs.start(job, work)
    return job.to_dict()
