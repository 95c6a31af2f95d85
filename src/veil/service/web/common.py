"""What every page shares: templates (autoescaped), the operator's session from the cookie, CSRF checks and
which pages a role may open."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from veil.service.deps import COOKIE
from veil.service.errors import ApiError
from veil.service.security import WebSession, csrf_ok
from veil.service.state import State

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(files("veil.service") / "templates")), autoescape=True, auto_reload=False
)
templates = Jinja2Templates(env=_ENV)  # every value escaped: a scanned value or a table name is text, never markup
# page -> (title, permission needed: None for any operator)
PAGES: dict[str, tuple[str, str | None]] = {
    "overview": ("Overview", None),
    "datamap": ("Data map", None),
    "inspect": ("Inspect", None),
    "guard": ("Guard", None),
    "budgets": ("Privacy budgets", None),
    "audit": ("Audit", "audit:read"),
    "governance": ("Governance", "governance"),
    "access": ("Access", "admin"),
}


class LoginNeeded(Exception):
    """No operator session: every dashboard route answers with the login page (``install`` maps it once)."""


def install(app: Any) -> None:
    async def login_page(_request: Request, _exc: Exception) -> RedirectResponse:
        return to_login()

    app.add_exception_handler(LoginNeeded, login_page)


def st_of(request: Request) -> State:
    found: State = request.app.state.veil
    return found


def operator(request: Request, page: str | None = None) -> WebSession:
    """The operator's web session (a redirect to the login page without one); 403 for a page the role may not
    open (refused and audited like any other privileged action)."""
    st = st_of(request)
    item = st.sessions.get(request.cookies.get(COOKIE))
    if item is None or item.session is None:
        raise LoginNeeded
    if not st.limiter.allow(item.session.principal):
        raise ApiError(429, "VEIL-429", "too many requests: slow down")
    needed = PAGES.get(page or "", ("", None))[1]
    if needed is not None:
        st.access.authorize(item.session, needed)
    return item


def visible_pages(item: WebSession) -> list[tuple[str, str]]:
    assert item.session is not None
    role = item.session.role
    return [(k, t) for k, (t, need) in PAGES.items() if need is None or role.allows(need)]


def render(request: Request, template: str, item: WebSession | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    base = {"request": request, "me": item, "pages": visible_pages(item) if item and item.session else [],
            "csrf": item.csrf if item else ""}  # fmt: skip
    page: HTMLResponse = templates.TemplateResponse(request, template, {**base, **ctx}, status_code=status)
    return page


def check_csrf(item: WebSession, form: Any) -> None:
    if not csrf_ok(item, form.get("csrf")):
        raise ApiError(403, "VEIL-412", "the form's CSRF token is missing or wrong: reload the page")


def to_login() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=303)
