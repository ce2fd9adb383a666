"""Service settings, read from the environment with the `SKYSPACE_` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_list(value: Any) -> Any:
    """Accept a JSON array (already decoded) or a comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import orjson

            return orjson.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


StrList = Annotated[list[str], NoDecode]
PathList = Annotated[list[Path], NoDecode]


class Settings(BaseSettings):
    """Everything the service can be configured with; see the README's Settings table."""

    model_config = SettingsConfigDict(env_prefix="SKYSPACE_", extra="ignore")

    # database
    database_url: str | None = Field(
        default=None, description="PostgreSQL+PostGIS URL; unset means the embedded cluster."
    )
    pg_dir: Path = Field(default=Path(".skyspace/pg"), description="Embedded cluster folder.")
    db_pool_size: int = Field(default=10, ge=1)
    db_connect_timeout: int = Field(default=5, ge=1, description="Seconds.")

    # imagery sources and access
    data_dirs: PathList = Field(default_factory=lambda: [Path(".skyspace/data")])
    allowed_hosts: StrList = Field(default_factory=list)
    allowed_buckets: StrList = Field(default_factory=list)
    api_key: SecretStr | None = None
    cors_origins: StrList = Field(default_factory=list)

    # caches and limits
    tile_cache_size: int = Field(default=1024, ge=0, description="Rendered tiles kept in memory.")
    dataset_cache_size: int = Field(default=64, ge=0, description="Open datasets kept.")
    cache_control: str = "public, max-age=3600"
    max_upload_mb: int = Field(default=1024, ge=1)
    max_json_mb: int = Field(default=64, ge=1, description="JSON request bodies (parsed whole).")
    max_range_m: float = Field(
        default=5000.0, gt=0, description="Camera rays meeting the ground farther are misses."
    )

    @field_validator("data_dirs", "allowed_hosts", "allowed_buckets", "cors_origins", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return value or None

    @property
    def upload_dir(self) -> Path:
        """Folder where uploaded files are stored: `uploads/` in the first data folder."""
        return self.data_dirs[0] / "uploads" if self.data_dirs else Path(".skyspace/data/uploads")


def sqlalchemy_url(url: str) -> str:
    """Normalise a PostgreSQL URL to the psycopg 3 driver SQLAlchemy should use."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
