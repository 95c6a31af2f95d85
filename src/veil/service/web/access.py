"""The Access page (admin): roles, principals, a new principal's API key shown once and its TOTP enrolment as a
QR code (drawn as SVG on the server: the secret never leaves the page for a QR service)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from veil.errors import AccessDenied, VeilError
from veil.service.web.common import check_csrf, operator, render, st_of
from veil.storage.schema import principals


def qr_svg(uri: str) -> Markup:
    import segno

    svg: str = segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return Markup(svg)


def _principals(st: Any) -> list[Any]:
    with st.vault.engine.connect() as conn:
        rows = conn.execute(select(principals.c.name, principals.c.role, principals.c.disabled,
                                   principals.c.totp_secret.is_not(None).label("totp"))).all()  # fmt: skip
    return list(rows)


async def access_view(request: Request) -> Response:
    try:
        item = operator(request, "access")
    except AccessDenied as exc:
        return render(request, "denied.html", None, status=403, message=exc.message, page="access")
    st = st_of(request)
    ctx: dict[str, Any] = {"page": "access"}
    if request.method == "POST":
        form = await request.form()
        check_csrf(item, form)
        try:
            ctx.update(await run_in_threadpool(_act, st, item, {k: str(v) for k, v in form.items()}))
        except VeilError as exc:
            ctx["error"] = exc.message
    ctx["roles"] = st.access.roles()
    ctx["principals"] = await run_in_threadpool(_principals, st)
    return render(request, "access.html", item, **ctx)


def _act(st: Any, item: Any, form: dict[str, str]) -> dict[str, Any]:
    st.access.authorize(item.session, "admin")
    actor = item.session.principal
    action = form.get("action")
    split = [p.strip() for p in form.get("permissions", "").split(",") if p.strip()]
    if action == "role":
        purposes = [p.strip() for p in form.get("purposes", "").split(",") if p.strip()]
        entities = {}
        for pair in form.get("entities", "").split(","):
            if "=" in pair:
                k, v = pair.split("=", 1)
                entities[k.strip().upper()] = v.strip()
        st.access.create_role(form.get("name", ""), split, purposes=purposes, entities=entities, actor=actor)
        return {"notice": f"role '{form.get('name')}' created"}
    if action == "user":
        key, uri = st.access.create_principal(form.get("name", ""), form.get("role", ""), totp=True, actor=actor)
        return {"new_key": key, "new_uri": uri, "qr": qr_svg(uri) if uri else None, "new_name": form.get("name")}
    if action == "disable":
        st.access.disable(form.get("name", ""), actor=actor)
        st.sessions.drop_principal(form.get("name", ""))  # their open dashboard sessions end now
        return {"notice": f"principal '{form.get('name')}' disabled"}
    return {"error": "unknown action"}
