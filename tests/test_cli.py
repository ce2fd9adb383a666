"""The command line: help everywhere, one-line failures, db url from the environment."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMANDS = [
    [],
    ["serve"],
    ["migrate"],
    ["ingest"],
    ["footprints"],
    ["questions"],
    ["demo"],
    ["db"],
    ["db", "up"],
    ["db", "down"],
    ["db", "url"],
    ["db", "wait"],
]


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "skyspace")
def test_every_command_has_help(command: list[str]) -> None:
    result = _run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_db_url_uses_the_configured_database() -> None:
    url = "postgresql+psycopg://someone@db.example:5432/sky"
    result = _run("db", "url", env={"SKYSPACE_DATABASE_URL": url})
    assert result.returncode == 0 and result.stdout.strip() == url
    up = _run("db", "up", env={"SKYSPACE_DATABASE_URL": url})
    assert up.stdout.strip() == url and "nothing started" in up.stderr


def test_failures_are_one_line(tmp_path) -> None:
    result = _run("db", "url", env={"SKYSPACE_PG_DIR": str(tmp_path / "never-started")})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("skyspace: error: no database")


def test_ingest_files_with_a_bad_one(tmp_path, database_url, clean_db) -> None:
    from sqlalchemy import text

    from app.synthetic.flights import to_srt, transect

    for i in range(2):
        flight = transect((2.17 + i * 0.01, 41.39), [(0, 100)], speed=10.0, fps=2.0)
        (tmp_path / f"f{i}.srt").write_text(to_srt(flight))
    (tmp_path / "bad.srt").write_text("not telemetry\n")
    env = {"SKYSPACE_DATABASE_URL": database_url}
    stops = _run("ingest", str(tmp_path / "bad.srt"), str(tmp_path / "f0.srt"), env=env)
    assert stops.returncode == 1
    assert "bad.srt: line 1: no subtitle cues" in stops.stderr
    assert stops.stderr.strip().splitlines()[-1].startswith("skyspace: error:")
    goes_on = _run(
        "ingest", "--keep-going", *(str(p) for p in sorted(tmp_path.glob("*.srt"))), env=env
    )
    assert goes_on.returncode == 0, goes_on.stderr
    assert "ingested 2 flight(s), 42 samples, 1 failed" in goes_on.stderr
    with clean_db.connect() as conn:
        names = conn.execute(text("SELECT name FROM flights ORDER BY name")).scalars().all()
    assert names == ["f0.srt", "f1.srt"]


def test_footprints_command(tmp_path, database_url, clean_db) -> None:
    from sqlalchemy import text

    from app.synthetic.flights import to_srt, transect

    (tmp_path / "f.srt").write_text(
        to_srt(transect((2.17, 41.39), [(0, 100)], speed=10.0, fps=2.0))
    )
    env = {"SKYSPACE_DATABASE_URL": database_url}
    assert _run("ingest", str(tmp_path / "f.srt"), env=env).returncode == 0
    with clean_db.begin() as conn:
        flight_id = conn.execute(text("SELECT id FROM flights")).scalar_one()
        assert conn.execute(text("SELECT count(*) FROM footprints")).scalar_one() == 0
        conn.execute(
            text("""UPDATE flights SET camera = '{"model": "FC220"}' WHERE id = :id"""),
            {"id": flight_id},
        )
    done = _run("footprints", "--flight", str(flight_id), env=env)
    assert done.returncode == 0, done.stderr
    assert f"flight {flight_id}: 21 footprints" in done.stderr
    missing = _run("footprints", "--flight", "999", env=env)
    assert missing.returncode == 1 and "flight 999 not found" in missing.stderr
