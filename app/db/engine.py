"""Engine creation and the database URL the service should use."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from app.db import embedded
from app.errors import DatabaseUnavailable, SetupError
from app.settings import Settings, sqlalchemy_url


def resolve_database_url(settings: Settings, *, start: bool = False) -> str:
    """The configured URL, else the embedded cluster's (started when `start` is true)."""
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    cluster = embedded.up(settings.pg_dir) if start else embedded.status(settings.pg_dir)
    if cluster is None:
        raise SetupError(
            "no database: set SKYSPACE_DATABASE_URL, "
            "or start the embedded one with `skyspace db up`"
        )
    return cluster.url


def make_engine(url: str, settings: Settings) -> Engine:
    """A pooled engine with a short connect timeout.

    No pre-ping: it would cost a round trip per request. A connection the server dropped
    fails its request with a 503 and the pool is invalidated, so the next request reconnects.
    """
    return create_engine(
        sqlalchemy_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        connect_args={"connect_timeout": settings.db_connect_timeout},
    )


def make_async_pool(url: str, settings: Settings) -> AsyncConnectionPool:
    """An asyncio psycopg pool (autocommit) for the hot read paths that run on the event loop."""
    libpq = sqlalchemy_url(url).replace("postgresql+psycopg://", "postgresql://")
    return AsyncConnectionPool(
        libpq,
        min_size=min(4, settings.db_pool_size),
        max_size=settings.db_pool_size,
        open=False,
        timeout=settings.db_connect_timeout,
        kwargs={"autocommit": True, "connect_timeout": settings.db_connect_timeout},
    )


def read_only(engine: Engine) -> Engine:
    """The same pool in autocommit mode: a read is one round trip (no BEGIN / ROLLBACK)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def postgis_version(engine: Engine) -> str:
    """PostGIS' library version, or DatabaseUnavailable when the database does not answer."""
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())
    except ProgrammingError as exc:
        raise DatabaseUnavailable(
            "the database answers but has no PostGIS: run `skyspace migrate`", code="no_postgis"
        ) from exc
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise DatabaseUnavailable(f"database unreachable: {reason}") from exc
