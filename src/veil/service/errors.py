"""Veil's errors as JSON answers with their stable codes; anything else a 500 that names no data."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from veil import errors as e

log = logging.getLogger(__name__)
_STATUS: list[tuple[type[e.VeilError], int]] = [
    (e.BudgetExceeded, 409), (e.ReleaseRefused, 409), (e.NoSolution, 409), (e.KeyShredded, 410),
    (e.AccessDenied, 403), (e.IntegrityError, 500), (e.MissingExtraError, 501), (e.ConfigError, 400),
    (e.InputError, 400), (e.PrivacyError, 409), (e.OutputError, 500), (e.VaultError, 500),
]  # fmt: skip


class ApiError(Exception):
    """An answer with a status, a Veil code and a message (401s, 404s, 413s, 429s of the service itself)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(code: str, message: str, hint: str | None = None) -> dict[str, dict[str, str]]:
    body = {"code": code, "message": message}
    if hint:
        body["hint"] = hint
    return {"error": body}


def status_of(exc: e.VeilError) -> int:
    if exc.code == "VEIL-411":
        return 401
    return next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)


def install(app: FastAPI) -> None:
    @app.exception_handler(e.VeilError)
    async def _veil(_r: Request, exc: e.VeilError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.hint), status_code=status_of(exc))

    @app.exception_handler(ApiError)
    async def _api(_r: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
        return JSONResponse(error_body("VEIL-200", message), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_r: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(f"HTTP-{exc.status_code}", str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _other(_r: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s in the service", type(exc).__name__)  # the message could quote data: not logged
        return JSONResponse(error_body("VEIL-000", "internal error"), status_code=500)
