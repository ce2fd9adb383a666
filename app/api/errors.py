"""One map from exceptions to HTTP replies: `{"detail": "...", "code": "..."}`."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.responses import JSON
from app.errors import SkyspaceError

log = logging.getLogger("skyspace")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
}


def error_response(status: int, detail: str, code: str, headers: dict | None = None):
    """The JSON error body every failure uses."""
    return JSON({"detail": detail, "code": code}, status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        parts.append(f"{location}: {error.get('msg', 'invalid')}" if location else error["msg"])
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: domain errors, validation errors, HTTP errors, and bugs."""

    @app.exception_handler(SkyspaceError)
    async def _domain(_: Request, exc: SkyspaceError) -> JSON:
        return error_response(exc.status, exc.detail, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSON:
        return error_response(422, _describe_validation(exc), "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSON:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(exc.status_code, str(exc.detail), code, exc.headers)

    async def _database_down(_: Request, exc: Exception) -> JSON:
        log.warning("database unavailable: %s", str(exc).strip().splitlines()[:1])
        return error_response(503, "database unavailable; retry", "database_unavailable")

    for unavailable in (OperationalError, psycopg.OperationalError, PoolTimeout):
        app.add_exception_handler(unavailable, _database_down)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSON:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error (this is a bug)", "internal_error")
