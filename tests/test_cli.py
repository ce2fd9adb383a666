"""The command line: help everywhere, one-line failures, db url from the environment."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMANDS = [[], ["serve"], ["migrate"], ["db"], ["db", "up"], ["db", "down"], ["db", "url"]]


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
