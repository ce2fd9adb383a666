"""`GET /healthz`: is the service up and is its PostGIS reachable."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import EngineDep
from app.api.responses import JSON
from app.db.engine import postgis_version
from app.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Service and database health")
def healthz(engine: EngineDep) -> JSON:
    """200 with the PostGIS version, or 503 saying what is wrong with the database."""
    try:
        version = postgis_version(engine)
    except DatabaseUnavailable as exc:
        return JSON(
            {"status": "error", "database": _state(exc), "detail": exc.detail, "code": exc.code},
            status_code=503,
        )
    return JSON({"status": "ok", "database": "ok", "postgis": version})


def _state(exc: DatabaseUnavailable) -> str:
    return "no_postgis" if exc.code == "no_postgis" else "unreachable"
