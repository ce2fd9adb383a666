"""The embedded cluster: start, reuse, stop, start again; clear errors when things are missing."""

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from app.db import embedded
from app.errors import SetupError


@pytest.fixture
def pg_dir():
    # a world-traversable parent, so the postgres user can reach it when we run as root
    parent = Path(tempfile.mkdtemp(prefix="skyspace-embedded-"))
    parent.chmod(0o755)
    yield parent / "pg"
    embedded.down(parent / "pg")
    shutil.rmtree(parent, ignore_errors=True)


def _postmaster_pid(cluster: embedded.Cluster) -> int:
    return int((cluster.root / "data" / "postmaster.pid").read_text().splitlines()[0])


def test_up_reuse_down_up(pg_dir: Path) -> None:
    assert embedded.status(pg_dir) is None
    first = embedded.up(pg_dir)
    assert first.root == pg_dir.resolve()
    with psycopg.connect(first.url.replace("+psycopg", "")) as conn:
        version = conn.execute("SELECT postgis_lib_version()").fetchone()
    assert version and version[0].startswith("3.")
    assert any(p.name.startswith(".s.PGSQL.") for p in first.root.iterdir()), "socket in folder"

    again = embedded.up(pg_dir)
    assert again.port == first.port
    assert _postmaster_pid(again) == _postmaster_pid(first), "reused, not restarted"
    assert embedded.status(pg_dir) == first

    assert embedded.down(pg_dir) is True
    assert embedded.status(pg_dir) is None
    assert embedded.down(pg_dir) is False

    restarted = embedded.up(pg_dir)
    with psycopg.connect(restarted.url.replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.shutil, "which", lambda name: None)
    monkeypatch.setattr(embedded.glob, "glob", lambda pattern: [])
    with pytest.raises(SetupError, match="apt-get install postgresql"):
        embedded.find_bindir()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to postgres")
def test_folder_postgres_cannot_reach_gets_a_stable_stand_in(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    root = embedded.cluster_root(closed / "pg")
    assert root != (closed / "pg").resolve()
    assert root == embedded.cluster_root(closed / "pg")
    assert str(root).startswith("/var/tmp/skyspace-pg-")
