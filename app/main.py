"""The application factory: `create_app(settings)` wires settings, engine, routers, errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import camera, features, flights, health, questions, scenes, tiles
from app.api.errors import install_error_handlers
from app.api.responses import JSON
from app.api.security import ApiKeyGuard, BodyLimit
from app.api.viewer import mount_viewer
from app.db.engine import make_async_pool, make_engine, read_only, resolve_database_url
from app.raster.service import Imagery, configure_gdal
from app.settings import Settings

log = logging.getLogger("skyspace")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app; the lifespan creates the engine and disposes of it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = resolve_database_url(settings)
        app.state.engine = make_engine(url, settings)
        app.state.read_engine = read_only(app.state.engine)
        app.state.async_pool = make_async_pool(url, settings)
        await app.state.async_pool.open(wait=False)
        try:
            yield
        finally:
            await app.state.async_pool.close()
            app.state.engine.dispose()

    app = FastAPI(
        title="skyspace",
        version=__version__,
        description="UAV–satellite cross-view data: trajectories, footprints, COG tiles, "
        "camera projection and spatial queries.",
        default_response_class=JSON,
        lifespan=lifespan,
    )
    app.state.settings = settings
    configure_gdal()
    app.state.imagery = Imagery(settings)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(flights.router)
    app.include_router(scenes.router)
    app.include_router(camera.router)
    app.include_router(features.router)
    app.include_router(questions.router)
    mount_viewer(app)
    app.include_router(tiles.router)

    app.add_middleware(BodyLimit, json_mb=settings.max_json_mb, upload_mb=settings.max_upload_mb)
    if settings.api_key is not None:
        app.add_middleware(ApiKeyGuard, api_key=settings.api_key.get_secret_value())
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag"],
        )
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:app_factory` (settings from the environment)."""
    return create_app(Settings())
