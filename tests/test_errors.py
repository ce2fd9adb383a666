"""The error model: every failure is `{"detail", "code"}` with the right status."""

from fastapi import Query
from fastapi.testclient import TestClient

from app.errors import InvalidInput, NotFound, TooLarge
from app.main import create_app
from app.settings import Settings


def _app_with_probes(settings: Settings):
    app = create_app(settings)

    @app.get("/probe/number")
    def number(n: int = Query(...)) -> dict:
        return {"n": n}

    @app.get("/probe/raise/{kind}")
    def raise_(kind: str) -> dict:
        errors = {
            "invalid": InvalidInput("line 3: bad latitude"),
            "missing": NotFound("flight 7 not found"),
            "large": TooLarge("upload over 1 MB"),
        }
        if kind in errors:
            raise errors[kind]
        raise RuntimeError("boom")

    return app


def test_unknown_path_is_json_404(client: TestClient) -> None:
    reply = client.get("/no/such/path")
    assert reply.status_code == 404
    assert reply.json() == {"detail": "Not Found", "code": "not_found"}


def test_wrong_method_is_json_405(client: TestClient) -> None:
    reply = client.delete("/healthz")
    assert reply.status_code == 405
    assert reply.json()["code"] == "method_not_allowed"


def test_validation_error_names_the_field(settings: Settings) -> None:
    with TestClient(_app_with_probes(settings)) as client:
        reply = client.get("/probe/number", params={"n": "seven"})
        missing = client.get("/probe/number")
    assert reply.status_code == 422
    assert reply.json()["code"] == "invalid_request"
    assert "query.n" in reply.json()["detail"]
    assert missing.status_code == 422 and "query.n" in missing.json()["detail"]


def test_domain_errors_map_to_status_and_code(settings: Settings) -> None:
    with TestClient(_app_with_probes(settings)) as client:
        invalid = client.get("/probe/raise/invalid")
        missing = client.get("/probe/raise/missing")
        large = client.get("/probe/raise/large")
    assert (invalid.status_code, invalid.json()) == (
        422,
        {"detail": "line 3: bad latitude", "code": "invalid_input"},
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (large.status_code, large.json()["code"]) == (413, "too_large")


def test_a_bug_is_a_json_500_without_internals(settings: Settings) -> None:
    with TestClient(_app_with_probes(settings), raise_server_exceptions=False) as client:
        reply = client.get("/probe/raise/bug")
    assert reply.status_code == 500
    assert reply.json()["code"] == "internal_error"
    assert "boom" not in reply.text
