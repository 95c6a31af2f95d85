"""Running data-subject requests across every source the policy names.

* access / portability: the subject's rows from every source, their tokens, consent history and audit records,
  in one bundle written atomically.
* erase: per source one transaction (all or nothing), progress saved after each, so a run stopped by a crash, a
  source that went down or a kill resumes with the sources not yet done; then a re-scan of every source must find
  no row holding the identifier; only then are the subject's tokens deleted and keys shredded (the identifier is
  needed for the re-scan, and is gone after). The evidence goes into the request and the audit log.
* rectify: one field set to its new value in every row of the subject, and in their free text.
* restrict: a restriction in the consent ledger, which every enforcement point honours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from veil.errors import AccessDenied, ConfigError, InputError, PrivacyError, VeilError
from veil.governance.bundle import write_bundle
from veil.governance.consent import Consent
from veil.governance.erase import Eraser, has_target
from veil.governance.locate import KEY, Found, Identity, Locator, phone_region
from veil.governance.requests import Request, Requests, RequestType
from veil.governance.sources import SourceSchema
from veil.governance.subjects import Kind, Subjects, kind_of, normalize, now
from veil.governance.vaultwipe import UNIQUE_ENTITIES, subject_tokens, wipe
from veil.policy import Policy
from veil.storage.engine import veil_home
from veil.vault import Vault

_IDENTITY_ENTITY = {"email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER"}
T = TypeVar("T")


def bundle_path(rid: str) -> Path:
    """Where a request's access bundle is written by default (the CLI, the service and the privacy center)."""
    return veil_home() / "requests" / f"{rid}.zip"


class Governor:
    def __init__(self, vault: Vault, policy: Policy, *, base: Path | None = None, actor: str = "local") -> None:
        from veil.anonymizer import detector_for

        self.vault = vault
        self.policy = policy
        self.base = base
        self.actor = actor
        self.region = phone_region(policy.locale)
        self.subjects = Subjects(vault, region=self.region)
        self.consent = Consent(vault, policy, self.subjects)
        self.requests = Requests(vault)
        quick = policy.model_copy(deep=True)
        quick.detection.ner = False  # identifiers are e-mails, phones and ids: the pattern tier finds them
        self.detector = detector_for(quick)

    # -- requests -----------------------------------------------------------------------------------------
    def open(
        self, identifier: str, kind: RequestType, *, params: dict[str, Any] | None = None, channel: str = ""
    ) -> Request:
        subject = self.subjects.register(identifier)
        jurisdiction = self.policy.governance.jurisdiction
        return self.requests.open(
            subject.id,
            kind,
            jurisdiction=jurisdiction,
            actor=self.actor,
            params=params,
            channel=channel,
        )

    def verify(self, rid: str, method: str) -> Request:
        if not method.strip():
            raise ConfigError("say how the identity was verified (--method, e.g. 'e-mail code', 'ID document')")
        return self.requests.move(rid, "verified", actor=self.actor, note=method, allowed=("received",))

    def refuse(self, rid: str, reason: str) -> Request:
        if not reason.strip():
            raise ConfigError("a refusal states its reason (Art. 12(4): the subject must be told why)")
        return self.requests.move(
            rid, "refused", actor=self.actor, note=reason, allowed=("received", "verified", "failed")
        )

    def run(self, rid: str, *, out: Path | None = None) -> Request:
        req = self.requests.get(rid)
        if req.status in ("done", "refused"):
            raise ConfigError(f"request {rid} is {req.status}")
        if req.status == "received":
            raise AccessDenied(f"request {rid}: the subject's identity is not verified", hint=f"veil dsar verify {rid}")
        self.requests.move(rid, "running", actor=self.actor, allowed=("verified", "running", "failed"))
        handlers: dict[str, Callable[[Request, Path | None], dict[str, Any]]] = {
            "access": self._access,
            "portability": self._access,
            "erase": self._erase,
            "rectify": self._rectify,
            "restrict": self._restrict,
        }
        try:
            result = handlers[req.type](self.requests.get(rid), out)
        except VeilError as exc:
            self.requests.move(rid, "failed", actor=self.actor, note=exc.message)
            raise
        return self.requests.move(rid, "done", actor=self.actor, result=result)

    # -- sources ------------------------------------------------------------------------------------------
    @contextmanager
    def sources(self) -> Iterator[list[SourceSchema]]:
        named = self.policy.governance.sources
        if not named:
            raise ConfigError(
                "the policy names no governance.sources: nothing to search", hint="see README: Governance"
            )
        opened: list[SourceSchema] = []
        try:
            for name, source in named.items():
                opened.append(SourceSchema(name, source, detector=self.detector, base=self.base))
            yield opened
        finally:
            for s in opened:
                s.close()

    def _who(self, req: Request) -> tuple[Kind, str]:
        subject = self.subjects.get(req.subject)
        assert subject is not None
        return subject.kind, normalize(self.subjects.identifier(req.subject), subject.kind, self.region)

    @staticmethod
    def _values(schema: SourceSchema, found: Found) -> set[str]:
        """The subject's unique identifying values in ``found`` (e-mails, phones, account numbers)."""
        out: set[str] = set()
        for table, rows in found.rows.items():
            info = schema.tables[table]
            cols = [
                c.name for c in info.columns.values() if UNIQUE_ENTITIES & set(c.entities) and c.role != "free_text"
            ]
            out.update(str(r[c]) for r in rows.values() for c in cols if r.get(c) not in (None, ""))
        return out

    def locator(self, schema: SourceSchema) -> Locator:
        """The locator of a source, with this governor's detector and phone region."""
        return Locator(schema, self.detector, self.region)

    def _read(self, schema: SourceSchema, work: Callable[..., T], *args: Any) -> T:
        """``work(locator, connection, *args)`` on a read connection of the source; a database failure as the
        source's error."""
        try:
            with schema.engine.connect() as conn:
                return work(self.locator(schema), conn, *args)
        except SQLAlchemyError as exc:
            raise schema.unreachable(exc) from None

    def _locate(self, schema: SourceSchema, identities: list[Identity]) -> Found:
        return self._read(schema, Locator.locate, identities)

    def _identities(self, sources: list[SourceSchema], req: Request) -> list[Identity]:
        """The subject's identifier and those found beside it in any source (an e-mail found on the row a phone
        number found, searched in every source), until no source adds one."""
        known: list[Identity] = [self._who(req)]
        grew = True
        while grew:
            grew = False
            for schema in sources:
                more = self._read(schema, Locator.expand, known)
                if len(more) > len(known):
                    known, grew = more, True
        return known

    def _saved_identities(self, req: Request, sources: list[SourceSchema]) -> list[Identity]:
        """For a run that changes data: found once and sealed in the progress record, so a resumed run still knows
        the e-mail that lived only on a row the stopped run already deleted."""
        if "identities" in req.progress:
            return [(k, v) for k, v in self.requests.unseal(req.id, "identities", req.progress["identities"])]
        found = self._identities(sources, req)
        req.progress["identities"] = self.requests.seal(req.id, "identities", [list(i) for i in found])
        self.requests.save_progress(req.id, req.progress)
        return found

    # -- handlers -----------------------------------------------------------------------------------------
    def _access(self, req: Request, out: Path | None) -> dict[str, Any]:
        tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
        with self.sources() as sources:
            identities = self._identities(sources, req)
            values = {v for _k, v in identities}
            for schema in sources:
                found = self._locate(schema, identities)
                values |= self._values(schema, found)
                tables[schema.name] = {
                    t: [{k: v for k, v in r.items() if k != KEY} for r in rows.values()]
                    for t, rows in found.rows.items()
                    if rows
                }
        found_tokens = subject_tokens(self.vault, req.subject, values, actor=self.actor)
        contents: dict[str, Any] = {
            "readme": {"controller": self.policy.governance.controller.name, "generated": now()},
            "request": {
                "id": req.id,
                "type": req.type,
                "subject": req.subject,
                "received": req.received,
                "generated": now(),
                "sources": sorted(tables),
            },
            "tokens": found_tokens,
            "consent": [e.to_dict() for e in self.consent.history(req.subject)],
            "audit": self.vault.audit.about(req.subject),
        }
        path = out or bundle_path(req.id)
        digest = write_bundle(path, contents, tables)
        counts = {s: {t: len(r) for t, r in by.items()} for s, by in tables.items()}
        self.vault.audit.append(
            self.actor,
            "dsar.bundle",
            subject=req.subject,
            request=req.id,
            sha256=digest,
            tables=counts,
            tokens=len(found_tokens),
        )
        return {"bundle": str(path), "sha256": digest, "tables": counts, "tokens": len(found_tokens)}

    def _per_source(
        self, req: Request, work: Callable[[SourceSchema, Any], dict[str, Any]], sources: list[SourceSchema]
    ) -> dict[str, Any]:
        """Run ``work`` once per source, each in its own write transaction; skip sources already done."""
        progress = req.progress
        done = progress.setdefault("sources", {})
        values = set(self.requests.unseal(req.id, "values", progress["values"])) if "values" in progress else set()
        for schema in sources:
            if done.get(schema.name, {}).get("state") == "done":
                continue
            try:
                with schema.engine.connect() as conn:
                    conn.execution_options(veil_write=True)
                    with conn.begin():
                        evidence = work(schema, conn)
            except SQLAlchemyError as exc:
                raise schema.unreachable(exc) from None
            found: Found = evidence.pop("found")
            values |= self._values(schema, found)
            done[schema.name] = {"state": "done", "at": now(), **evidence}
            progress["values"] = self.requests.seal(req.id, "values", sorted(values))
            self.requests.save_progress(req.id, progress)
            self.vault.audit.append(
                self.actor,
                f"dsar.{req.type}.source",
                subject=req.subject,
                request=req.id,
                source=schema.name,
                tables=evidence.get("tables", {}),
            )
        return progress

    def _erase(self, req: Request, _out: Path | None) -> dict[str, Any]:
        progress = req.progress
        if "vault" in progress:  # a resumed run whose subject is already forgotten: only the record is left
            return self._erase_result(progress)
        with self.sources() as sources:
            identities = self._saved_identities(req, sources)
            progress = self._per_source(
                req, lambda s, conn: Eraser(s, self.locator(s)).erase(conn, identities), sources
            )
            rescan = {s.name: self._locate(s, identities).counts() for s in sources}
        left = {s: c for s, c in rescan.items() if c}
        progress["rescan"] = {"at": now(), "rows_holding_identifier": rescan}
        self.requests.save_progress(req.id, progress)
        if left:
            raise PrivacyError(
                f"the re-scan after erasure still finds the subject in {left} (rows written meanwhile?)",
                hint=f"veil dsar run {req.id} erases them",
            )
        values = set(self.requests.unseal(req.id, "values", progress["values"])) | {v for _k, v in identities}
        for purpose, action in self.consent.state(req.subject).items():
            if action == "grant":
                self.consent.record(req.subject, purpose, "withdraw", actor=self.actor, source=f"erasure {req.id}")
        progress["vault"] = wipe(self.vault, req.subject, values, actor=self.actor)
        progress.pop("values", None)
        progress.pop("identities", None)
        self.requests.save_progress(req.id, progress)
        self.subjects.forget(req.subject, actor=self.actor)
        return self._erase_result(progress)

    @staticmethod
    def _erase_result(progress: dict[str, Any]) -> dict[str, Any]:
        return {
            "sources": {k: v.get("tables", {}) for k, v in progress.get("sources", {}).items()},
            "rescan": progress.get("rescan", {}),
            "vault": progress.get("vault", {}),
            "identifier": "destroyed (subject key shredded)",
        }

    def _rectify(self, req: Request, _out: Path | None) -> dict[str, Any]:
        params = self.requests.params(req.id)
        target, new = str(params["target"]), str(params["value"])
        with self.sources() as sources:
            if not any(has_target(s, target) for s in sources):
                raise ConfigError(f"no source has a column named or classified '{target}'")
            identities = self._saved_identities(req, sources)
            changes_identity = target in _IDENTITY_ENTITY.values() or any(
                target in info.identity for s in sources for info in s.tables.values()
            )
            if changes_identity and not req.progress.get("sources"):
                self._refuse_taken(sources, identities, new)
            progress = self._per_source(
                req,
                lambda s, c: Eraser(s, self.locator(s)).rectify(c, identities, target, new),
                sources,
            )
        result: dict[str, Any] = {"sources": {k: v.get("tables", {}) for k, v in progress["sources"].items()}}
        if changes_identity:
            # The new identifier was not verified: consent is never carried to it (it could be someone else's);
            # a restriction is, since it only ever protects.
            moved = self.subjects.register(new)
            if self.consent.state(req.subject).get("*") == "restrict":
                self.consent.record(moved.id, "*", "restrict", actor=self.actor, source=f"rectification {req.id}")
            result["subject_now"] = moved.id
            result["consent"] = "not carried over: the subject consents again under the new identifier"
        return result

    def _refuse_taken(self, sources: list[SourceSchema], identities: list[Identity], new: str) -> None:
        """A new e-mail or phone that already identifies someone else's rows is refused: after the change, that
        person's own requests would reach this subject's rows."""
        kind = kind_of(new)
        try:
            wanted: Identity = (kind, normalize(new, kind, self.region))
        except InputError:
            return
        for schema in sources:
            own = self._locate(schema, identities)
            theirs = self._locate(schema, [wanted])
            for table, rows in theirs.rows.items():
                if set(rows) - set(own.rows.get(table, {})):
                    raise ConfigError(
                        f"the new value already identifies other rows ({schema.label}, table {table}): refused",
                        hint="check the value with the subject; merge accounts as a separate step",
                    )

    def _restrict(self, req: Request, _out: Path | None) -> dict[str, Any]:
        event = self.consent.record(req.subject, "*", "restrict", actor=self.actor, source=f"request {req.id}")
        return {"restricted": True, "consent_event": event.id}
