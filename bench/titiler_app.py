"""The TiTiler side of bench/tiles.py: titiler.core's TilerFactory, as its docs show."""

from fastapi import FastAPI
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory

app = FastAPI(title="TiTiler (benchmark)")
app.include_router(TilerFactory().router, prefix="/cog")
add_exception_handlers(app, DEFAULT_STATUS_CODES)


@app.get("/docs-ready")
def ready() -> dict:
    """Liveness for the benchmark's start-up wait."""
    return {"ok": True}
