"""The operator dashboard (``/ui``): server-rendered pages, a session cookie from API key + TOTP, CSRF-checked
forms, and what each role may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from veil.errors import AccessDenied, InputError, VeilError
from veil.service.api.session import login as start_session
from veil.service.deps import COOKIE
from veil.service.security import WebSession
from veil.service.web import charts, pages
from veil.service.web.access import access_view
from veil.service.web.common import check_csrf, operator, render, st_of, to_login
from veil.service.web.inspect import inspect_view

router = APIRouter(prefix="/ui", include_in_schema=False)


View = Callable[[Request, WebSession], dict[str, Any]]


def _page(name: str) -> Callable[[View], View]:
    """A GET page: the operator's session, their role's right to the page, then the page's own view."""

    def wrap(view: View) -> View:
        async def handler(request: Request) -> Response:
            try:
                item = operator(request, name)
            except AccessDenied as exc:
                return render(request, "denied.html", st_of(request).sessions.get(request.cookies.get(COOKIE)),
                              status=403, message=exc.message, page=name)  # fmt: skip
            ctx = await run_in_threadpool(view, request, item)
            return render(request, f"{name}.html", item, page=name, **ctx)

        router.add_api_route(f"/{name}" if name != "overview" else "", handler, methods=["GET"])
        return view

    return wrap


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", None)


@router.post("/login")
async def login(request: Request) -> Response:
    st = st_of(request)
    form = await request.form()
    st.sessions.drop(request.cookies.get(COOKIE))  # a session is never carried over a login (no fixation)
    host = request.client.host if request.client else "?"
    try:
        item = await run_in_threadpool(start_session, st, str(form.get("api_key", "")), str(form.get("totp", "")),
                                       f"ui:{host}")  # fmt: skip
    except VeilError as exc:
        return render(request, "login.html", None, status=401, error=getattr(exc, "message", "login refused"))
    except Exception as exc:  # ApiError (429, 401)
        return render(request, "login.html", None, status=getattr(exc, "status", 401),
                      error=getattr(exc, "message", "login refused"))  # fmt: skip
    resp = RedirectResponse("/ui", status_code=303)
    resp.set_cookie(COOKIE, item.token, httponly=True, samesite="strict", secure=st.settings.tls, path="/",
                    max_age=int(st.sessions.ttl))  # fmt: skip
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    st = st_of(request)
    item = operator(request)
    check_csrf(item, await request.form())
    st.sessions.drop(item.token)
    resp = to_login()
    resp.delete_cookie(COOKIE, path="/")
    return resp


@_page("overview")
def overview(request: Request, _item: Any) -> dict[str, Any]:
    st = st_of(request)
    summary = pages.map_summary(pages.data_maps(st))
    guard = pages.guard_stats(st)
    gov = pages.governance_stats(st)
    budgets = pages.budgets(st)
    return {"summary": summary, "guard": guard, "gov": gov, "budgets": budgets, "chain": pages.chain_status(st),
            "entity_chart": charts.bars([(e, float(n)) for e, n in summary["entities"]]),
            "traffic_chart": charts.columns(guard["per_day"]),
            "budget_chart": charts.bars([(b["dataset"][-28:], b["left"]) for b in budgets], unit=" left")}  # fmt: skip


@_page("datamap")
def datamap(request: Request, _item: Any) -> dict[str, Any]:
    maps = pages.data_maps(st_of(request))
    per_table = [(f"{name}.{t}", float(len(m.get("personal_columns", []))))
                 for name, dm in maps for t, m in dm.get("tables", {}).items()]  # fmt: skip
    per_table.sort(key=lambda p: -p[1])
    return {"maps": maps, "chart": charts.bars(per_table[:25], unit=" personal columns")}


@router.post("/datamap/scan")
async def datamap_scan(request: Request) -> Response:
    item = operator(request, "datamap")
    form = await request.form()
    check_csrf(item, form)
    source = str(form.get("source", ""))
    st = st_of(request)
    if source not in st.policy.governance.sources:
        return render(request, "denied.html", item, status=400, message="unknown source", page="datamap")
    await run_in_threadpool(pages.scan_source, st, source)
    st.vault.audit.append(item.session.principal if item.session else "?", "datamap.scan", source=source)
    return RedirectResponse("/ui/datamap", status_code=303)


@_page("guard")
def guard(request: Request, _item: Any) -> dict[str, Any]:
    g = pages.guard_stats(st_of(request))
    return {"g": g, "traffic": charts.columns(g["per_day"]),
            "found": charts.bars([(e, float(n)) for e, n in g["found"]]),
            "leaks": charts.bars([(e, float(n)) for e, n in g["leaks"]])}  # fmt: skip


@_page("budgets")
def budgets(request: Request, _item: Any) -> dict[str, Any]:
    rows = pages.budgets(st_of(request))
    return {"budgets": rows, "chart": charts.bars([(b["dataset"][-28:], b["spent"]) for b in rows], unit=" ε spent")}


@_page("audit")
def audit(request: Request, _item: Any) -> dict[str, Any]:
    q = request.query_params
    filters = {k: q.get(k, "")[:200] for k in ("actor", "action", "result", "subject")}
    page = max(0, min(10_000, int(q.get("page", "0")) if q.get("page", "0").isdigit() else 0))
    rows, total = pages.audit_page(st_of(request), filters, page)
    chain = pages.chain_status(st_of(request))
    alerts = pages.open_alerts(st_of(request))
    return {"rows": rows, "total": total, "filters": filters, "pageno": page, "chain": chain, "alerts": alerts,
            "notice": q.get("notice", "")[:200]}  # fmt: skip


@router.post("/audit/verify")
async def audit_verify(request: Request) -> Response:
    item = operator(request, "audit")
    check_csrf(item, await request.form())
    await run_in_threadpool(pages.chain_status, st_of(request), refresh=True)
    return RedirectResponse("/ui/audit", status_code=303)


@router.post("/audit/ack")
async def alert_ack(request: Request) -> Response:
    """Acknowledge a monitor alert (an alert about the operator themself is refused, as in the API)."""
    from veil.monitor.store import acknowledge

    item = operator(request, "audit")
    form = await request.form()
    check_csrf(item, form)
    raw = str(form.get("alert", ""))
    try:
        if not raw.isdigit():
            raise InputError("no such alert")
        await run_in_threadpool(acknowledge, st_of(request).vault, int(raw), item.session.principal if item.session
                                else "?", str(form.get("note", ""))[:1000])  # fmt: skip
    except VeilError as exc:
        return render(request, "denied.html", item, status=403 if isinstance(exc, AccessDenied) else 400,
                      message=exc.message, page="audit")  # fmt: skip
    return RedirectResponse(f"/ui/audit?notice=alert+{raw}+acknowledged", status_code=303)


@_page("governance")
def governance(request: Request, _item: Any) -> dict[str, Any]:
    from veil.governance.breach import Breaches

    st = st_of(request)
    gov = pages.governance_stats(st)
    found = Breaches(st.governor("dashboard")).find()
    return {"gov": gov, "breaches": found, "purposes": list(st.policy.purposes)}


router.add_api_route("/inspect", inspect_view, methods=["GET", "POST"])
router.add_api_route("/access", access_view, methods=["GET", "POST"])
