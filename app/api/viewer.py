"""The map viewer: one page and its static files (MapLibre GL JS from the npm registry)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent.parent / "web"
MAPLIBRE = WEB / "node_modules" / "maplibre-gl" / "dist"
mimetypes.add_type("text/javascript", ".mjs")  # module scripts must be served as JavaScript

router = APIRouter(tags=["viewer"])


@router.get("/viewer", response_class=HTMLResponse, summary="The map viewer")
def viewer() -> Response:
    """The page; a clear 503 when MapLibre GL JS has not been installed."""
    if not (MAPLIBRE / "maplibre-gl.mjs").exists():
        return HTMLResponse(
            "<h1>skyspace viewer</h1><p>MapLibre GL JS is not installed: run "
            "<code>make run</code> (or <code>npm install --prefix app/web</code>).</p>",
            status_code=503,
        )
    return FileResponse(WEB / "index.html", media_type="text/html")


def mount_viewer(app: FastAPI) -> None:
    """The page's route and its two static folders."""
    app.include_router(router)
    app.mount("/viewer/static", StaticFiles(directory=WEB), name="viewer-static")
    app.mount(
        "/viewer/maplibre", StaticFiles(directory=MAPLIBRE, check_dir=False), name="viewer-maplibre"
    )
