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


def test_bodies_over_the_limits_are_413_and_store_nothing(settings: Settings, clean_db) -> None:
    from sqlalchemy import text

    small = settings.model_copy(update={"max_json_mb": 1, "max_upload_mb": 2})
    over_json = b'{"pixels": [' + b"[1.0, 2.0]," * 110_000 + b"[1.0, 2.0]]}"  # ~1.2 MB
    assert 1024 * 1024 < len(over_json) < 2 * 1024 * 1024
    geojson = b'{"type": "FeatureCollection", "features": [], "pad": "' + b"x" * 1_200_000 + b'"}'

    def chunks():  # no Content-Length: counted as it arrives
        for start in range(0, len(over_json), 65536):
            yield over_json[start : start + 65536]

    with TestClient(create_app(small)) as client:
        declared = client.post(
            "/project", content=over_json, headers={"content-type": "application/json"}
        )
        streamed = client.post(
            "/flights/1/project", content=chunks(), headers={"content-type": "application/json"}
        )
        features = client.post(
            "/features", content=geojson, headers={"content-type": "application/geo+json"}
        )
        # the same bytes as a file upload are under MAX_UPLOAD_MB: the endpoint reads them
        as_file = client.post("/features", files={"file": ("big.geojson", geojson)})
        fine = client.post("/project", json={"camera": {}, "pose": {}})
    for reply in (declared, streamed, features):
        assert reply.status_code == 413, reply.text
        assert reply.json()["code"] == "too_large" and "MAX_JSON_MB" in reply.json()["detail"]
    assert as_file.status_code == 422 and "no features" in as_file.json()["detail"]
    assert fine.status_code == 422  # small bodies reach the endpoint
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM features")).scalar_one() == 0
