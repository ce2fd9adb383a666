"""The demo world (synthetic city, three flights, 167 landmarks) loaded once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.demo import load_demo
from app.settings import Settings
from tests.conftest import TABLES


@pytest.fixture(scope="module")
def world(engine: Engine, database_url: str, tmp_path_factory) -> Iterator[dict]:
    """Flight ids by name, the settings used, on the session database (emptied afterwards)."""
    data = Path(tmp_path_factory.mktemp("world"))
    settings = Settings(database_url=database_url, data_dirs=[data])
    load_demo(engine, settings, echo=lambda line: None)
    with engine.connect() as conn:
        flights = {
            name.removeprefix("demo "): fid
            for fid, name in conn.execute(text("SELECT id, name FROM flights"))
        }
    yield {"flights": flights, "settings": settings}
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
