"""Settings: SKYSPACE_ prefix, lists as JSON arrays or comma-separated strings."""

from pathlib import Path

import pytest

from app.settings import Settings, sqlalchemy_url


def test_lists_accept_comma_separated_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYSPACE_ALLOWED_HOSTS", "tiles.example.org, 127.0.0.1")
    monkeypatch.setenv("SKYSPACE_CORS_ORIGINS", '["http://a.test", "http://b.test"]')
    monkeypatch.setenv("SKYSPACE_DATA_DIRS", "/srv/imagery,/data")
    settings = Settings()
    assert settings.allowed_hosts == ["tiles.example.org", "127.0.0.1"]
    assert settings.cors_origins == ["http://a.test", "http://b.test"]
    assert settings.data_dirs == [Path("/srv/imagery"), Path("/data")]


def test_api_key_and_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYSPACE_API_KEY", "k")
    monkeypatch.setenv("SKYSPACE_DATABASE_URL", "")
    settings = Settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "k"
    assert settings.database_url is None


def test_urls_are_normalised_to_psycopg3() -> None:
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
