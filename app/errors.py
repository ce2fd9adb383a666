"""Domain exceptions and the one map from exception to HTTP status.

Everything a client can get wrong raises a `SkyspaceError` subclass; the API layer turns it
into `{"detail": ..., "code": ...}` with the class's status. Nothing here imports FastAPI.
"""

from __future__ import annotations


class SkyspaceError(Exception):
    """Base class: a message for the client, a stable machine-readable code and a status."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class InvalidInput(SkyspaceError):
    """The request is well-formed HTTP but its content is wrong (bad file, bad value)."""

    status = 422
    code = "invalid_input"


class NotFound(SkyspaceError):
    """An id or resource that does not exist."""

    status = 404
    code = "not_found"


class TooLarge(SkyspaceError):
    """A body or a requested output over the configured limits."""

    status = 413
    code = "too_large"


class Unauthorized(SkyspaceError):
    """A write without the right `X-API-Key`."""

    status = 401
    code = "unauthorized"


class Conflict(SkyspaceError):
    """The request clashes with the current state (e.g. a duplicate)."""

    status = 409
    code = "conflict"


class DatabaseUnavailable(SkyspaceError):
    """The database cannot be reached."""

    status = 503
    code = "database_unavailable"


class SetupError(SkyspaceError):
    """The machine lacks something the service needs (PostgreSQL, PostGIS, a folder)."""

    status = 500
    code = "setup_error"
