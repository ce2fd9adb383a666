"""Alembic migrations: up creates every table and index, down removes them, up again works."""

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, create_database, drop_database, migrate

TABLES = {"scenes", "flights", "samples", "footprints", "features"}
GIST_INDEXES = {
    ("scenes", "footprint"),
    ("flights", "path"),
    ("samples", "geom"),
    ("footprints", "polygon"),
    ("features", "geom"),
}


@pytest.fixture
def fresh_url(admin_url: str):
    name = f"skyspace_mig_{uuid.uuid4().hex[:8]}"
    url = create_database(admin_url, name)
    yield url
    drop_database(admin_url, name)


def _schema(url: str) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
        rows = conn.execute(
            text("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        ).all()
    engine.dispose()
    gist = {
        (table, indexdef.split("USING gist (")[1].rstrip(")"))
        for table, indexdef in rows
        if "USING gist" in indexdef
    }
    btrees = {indexdef for _, indexdef in rows if "USING btree" in indexdef}
    return tables, gist, btrees


def test_upgrade_creates_tables_and_indexes_then_downgrade_removes_them(fresh_url: str) -> None:
    migrate(fresh_url)
    tables, gist, btrees = _schema(fresh_url)
    assert tables >= TABLES
    assert gist >= GIST_INDEXES
    assert any("samples" in d and "(flight_id, t)" in d for d in btrees)
    assert any("footprints" in d and "(flight_id, t)" in d for d in btrees)

    migrate(fresh_url, "base", down=True)
    tables, gist, _ = _schema(fresh_url)
    assert not (TABLES & tables)
    assert not gist

    migrate(fresh_url)
    tables, _, _ = _schema(fresh_url)
    assert tables >= TABLES


def test_geometry_columns_are_typed_wgs84(fresh_url: str) -> None:
    migrate(fresh_url)
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns")
        ).all()
    engine.dispose()
    columns = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    assert columns[("flights", "path")] == (4326, "LINESTRING")
    assert columns[("samples", "geom")] == (4326, "POINT")
    assert columns[("footprints", "polygon")] == (4326, "POLYGON")
    assert all(srid == 4326 for srid, _ in columns.values())


def test_cli_migrate_up_down_and_bad_revision(fresh_url: str) -> None:
    env = {"SKYSPACE_DATABASE_URL": fresh_url, "PATH": "/usr/bin:/bin"}
    skyspace = [sys.executable, "-m", "app.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*skyspace, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    up = run("migrate")
    assert up.returncode == 0, up.stderr
    assert "schema at 0002" in up.stderr
    down = run("migrate", "--to", "base")
    assert down.returncode == 0 and "schema at base" in down.stderr
    assert not (TABLES & _schema(fresh_url)[0])
    bad = run("migrate", "--to", "nope")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "skyspace: error: unknown revision 'nope'"
    assert "Traceback" not in bad.stderr


def test_flight_references_are_checked_and_cascade(fresh_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    migrate(fresh_url)
    engine = create_engine(fresh_url)
    point = "ST_GeomFromEWKT('SRID=4326;POINT Z(8 47 100)')"
    with engine.begin() as conn:
        flight_id = conn.execute(
            text(
                "INSERT INTO flights (name, source_format, altitude_reference, start_time, "
                "end_time, sample_count, length_m, path) VALUES ('f', 'srt', 'takeoff', now(), "
                "now(), 1, 0, ST_GeomFromEWKT('SRID=4326;LINESTRING Z(8 47 100, 8 47 100)')) "
                "RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(f"INSERT INTO samples (flight_id, t, time, geom) VALUES (:f, 0, now(), {point})"),
            {"f": flight_id},
        )
    with pytest.raises(IntegrityError, match="does not exist"), engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO samples (flight_id, t, time, geom) VALUES (:f, 0, now(), {point})"),
            {"f": flight_id + 1},
        )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM flights WHERE id = :f"), {"f": flight_id})
        left = conn.execute(text("SELECT count(*) FROM samples")).scalar_one()
    engine.dispose()
    assert left == 0


def test_0002_repairs_invalid_landmarks_stored_before(fresh_url: str) -> None:
    migrate(fresh_url, "0001")
    engine = create_engine(fresh_url)
    bowtie = "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"  # self-intersecting, as some OSM outlines
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO features (class, geom) VALUES "
                "('building', ST_GeomFromText(:bad, 4326)), "
                "('building', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 4326))"
            ),
            {"bad": bowtie},
        )
    migrate(fresh_url, "0002")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT ST_IsValid(geom), properties FROM features ORDER BY id")
        ).all()
    engine.dispose()
    assert [valid for valid, _ in rows] == [True, True]
    assert rows[0][1] == {"geometry_repaired": True} and rows[1][1] == {}
