"""The API-key guard and CORS."""

from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings


def test_writes_need_the_api_key_reads_stay_open(settings: Settings) -> None:
    guarded = settings.model_copy(update={"api_key": SecretStr("s3cret")})
    app = create_app(guarded)

    @app.post("/probe/write")
    def write() -> dict:
        return {"written": True}

    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        missing = client.post("/probe/write")
        wrong = client.post("/probe/write", headers={"X-API-Key": "nope"})
        right = client.post("/probe/write", headers={"X-API-Key": "s3cret"})
        delete = client.delete("/probe/write")
    assert missing.status_code == 401
    assert missing.json() == {"detail": "missing X-API-Key header", "code": "unauthorized"}
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong X-API-Key"
    assert right.status_code == 200 and right.json() == {"written": True}
    assert delete.status_code == 401


def test_without_a_key_writes_are_open(settings: Settings) -> None:
    app = create_app(settings)

    @app.post("/probe/write")
    def write() -> dict:
        return {"written": True}

    with TestClient(app) as client:
        assert client.post("/probe/write").status_code == 200


def test_cors_origins_from_settings(settings: Settings) -> None:
    allowed = settings.model_copy(update={"cors_origins": ["https://maps.example.org"]})
    with TestClient(create_app(allowed)) as client:
        ok = client.get("/healthz", headers={"Origin": "https://maps.example.org"})
        other = client.get("/healthz", headers={"Origin": "https://evil.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://maps.example.org"
    assert "access-control-allow-origin" not in other.headers
