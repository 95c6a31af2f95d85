"""The Inspect page: paste a text (or upload one), see each finding highlighted with why it was found, and the
text as the policy and a purpose would anonymize it; paste anonymized text to see what your role may restore."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from veil.errors import AccessDenied, VeilError
from veil.service.web.common import check_csrf, operator, render, st_of

MAX = 200_000


def highlight(text: str, findings: list[Any]) -> Markup:
    """The text with each finding in a ``<mark>`` whose title explains it; everything escaped."""
    parts, pos = [], 0
    for i, f in enumerate(sorted(findings, key=lambda f: (f.start, -f.end))):
        if f.start < pos:
            continue
        why = f"{f.entity} · score {f.score:.2f} · {f.explanation.recognizer}"
        parts.append(escape(text[pos : f.start]))
        parts.append(f'<mark class="pii" id="f{i}" data-entity="{escape(f.entity)}" title="{escape(why)}">'
                     f"{escape(text[f.start : f.end])}</mark>")  # fmt: skip
        pos = f.end
    parts.append(escape(text[pos:]))
    return Markup("".join(parts))


async def inspect_view(request: Request) -> Response:
    item = operator(request, "inspect")
    st = st_of(request)
    ctx: dict[str, Any] = {"purposes": list(st.policy.purposes), "text": "", "purpose": "", "page": "inspect"}
    if request.method == "POST":
        form = await request.form()
        check_csrf(item, form)
        upload = form.get("file")
        text = str(form.get("text", ""))
        if upload is not None and not isinstance(upload, str) and upload.filename:
            raw = await upload.read(MAX + 1)
            text = raw.decode("utf-8", errors="replace")
        if len(text) > MAX:
            ctx["error"] = f"the text is over {MAX:,} characters"
        else:
            ctx.update(await run_in_threadpool(_inspect, st, item, text, str(form.get("purpose", "")),
                                               str(form.get("restore", ""))))  # fmt: skip
    return render(request, "inspect.html", item, **ctx)


def _inspect(st: Any, item: Any, text: str, purpose: str, restore: str) -> dict[str, Any]:
    out: dict[str, Any] = {"text": text, "purpose": purpose, "restore": restore}
    if text:
        findings = st.anonymizer.detector.detect(text)
        out["marked"] = highlight(text, findings)
        out["findings"] = findings
        try:
            st.access.authorize(item.session, "tokenize", purpose=purpose)
            out["preview"] = st.anonymizer.anonymize(text, purpose or None).text
        except AccessDenied as exc:
            out["preview_refused"] = exc.message
        except VeilError as exc:
            out["error"] = exc.message
    if restore:
        from veil.detect.plausible import plausible_entities
        from veil.vault.access import AccessControl

        try:
            tokens = st.anonymizer.tokens_in(restore)
            ac = AccessControl(st.vault, classify=plausible_entities)
            values = ac.detokenize(item.session, st.policy.scope, tokens, purpose=purpose) if tokens else {}
            out["restored"] = st.anonymizer.restore(restore, audit=False, known=values)
        except AccessDenied as exc:
            out["restore_refused"] = exc.message
    return out
