"""Dependency aliases that make route signatures read like prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from app.settings import Settings


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (async: no threadpool hop for a lookup)."""
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    """The app's SQLAlchemy engine (created in the lifespan; async: no threadpool hop)."""
    return request.app.state.engine


async def get_read_engine(request: Request) -> Engine:
    """The engine in autocommit mode, for endpoints that only read."""
    return request.app.state.read_engine


async def get_async_pool(request: Request) -> AsyncConnectionPool:
    """The asyncio connection pool for reads served on the event loop (vector tiles)."""
    return request.app.state.async_pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
AsyncPoolDep = Annotated[AsyncConnectionPool, Depends(get_async_pool)]
