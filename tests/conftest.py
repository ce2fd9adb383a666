"""Test fixtures: a throwaway PostGIS database for the session, an app and a client per test.

The database is created on `SKYSPACE_TEST_DATABASE_URL` when set (any PostgreSQL with PostGIS
available), else on the embedded cluster (started if needed), migrated with Alembic, and
dropped at the end. Tests are isolated by truncating every table after each one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine, create_engine, text

from app.db import embedded
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
TABLES = ("footprints", "samples", "flights", "scenes", "features")


def libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq one."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name."""
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def create_database(admin_url: str, name: str) -> str:
    """Create a database with PostGIS on the admin URL's server; return its URL."""
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin_url, name)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def drop_database(admin_url: str, name: str) -> None:
    """Drop a test database, closing whatever still holds it."""
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def migrate(url: str, revision: str = "head", down: bool = False) -> None:
    """Run the project's Alembic migrations against `url`."""
    from alembic import command

    from app.cli import _alembic_config

    config = _alembic_config(url)
    config.attributes["configure_logger"] = False
    (command.downgrade if down else command.upgrade)(config, revision)


@pytest.fixture(scope="session")
def admin_url() -> str:
    """A URL to a maintenance database on the test server."""
    given = os.environ.get("SKYSPACE_TEST_DATABASE_URL")
    if given:
        return with_database(given.replace("postgresql://", "postgresql+psycopg://"), "postgres")
    pg_dir = Path(os.environ.get("SKYSPACE_PG_DIR", ROOT / ".skyspace" / "pg"))
    cluster = embedded.up(pg_dir)
    return with_database(cluster.url, "postgres")


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    """A migrated throwaway database for the whole session."""
    name = f"skyspace_test_{uuid.uuid4().hex[:10]}"
    url = create_database(admin_url, name)
    try:
        migrate(url)
        yield url
    finally:
        drop_database(admin_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the session database, for assertions made straight in SQL."""
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """The session database, emptied after the test."""
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A folder the test's settings allow imagery to be registered from."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    """Settings pointing at the test database and the test's data folder."""
    return Settings(database_url=database_url, data_dirs=[data_dir], allowed_hosts=["127.0.0.1"])


@pytest.fixture
def client(settings: Settings, clean_db: Engine) -> Iterator[TestClient]:
    """A client of an app on the test database (lifespan run), emptied afterwards."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def shared_file(*parts: str) -> Path:
    """A file from ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    return path
