"""Health endpoint: ok with the PostGIS version, 503 with a clear body when the DB is down."""

import socket

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_ok_reports_postgis_version(client: TestClient) -> None:
    reply = client.get("/healthz")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    major = int(body["postgis"].split(".")[0])
    assert major >= 3


def test_health_database_down_is_503_with_reason() -> None:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/nothing",
        db_connect_timeout=1,
    )
    with TestClient(create_app(settings)) as client:
        reply = client.get("/healthz")
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "error"
    assert body["database"] == "unreachable"
    assert body["code"] == "database_unavailable"
    assert "unreachable" in body["detail"]


def test_health_database_without_postgis_is_503(admin_url: str) -> None:
    import psycopg

    from tests.conftest import drop_database, libpq, with_database

    name = "skyspace_test_nopostgis"
    drop_database(admin_url, name)
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        settings = Settings(database_url=with_database(admin_url, name))
        with TestClient(create_app(settings)) as client:
            reply = client.get("/healthz")
        assert reply.status_code == 503
        assert reply.json()["database"] == "no_postgis"
    finally:
        drop_database(admin_url, name)


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/healthz" in schema["paths"]


def test_reads_with_the_database_down_are_503() -> None:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/nothing",
        db_connect_timeout=1,
    )
    with TestClient(create_app(settings)) as client:
        reply = client.get("/flights")
        tile = client.get("/tiles/flights/10/500/300.mvt")
    assert reply.status_code == 503 and reply.json()["code"] == "database_unavailable"
    assert tile.status_code == 503
