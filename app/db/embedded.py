"""The embedded default database: a private PostgreSQL cluster under a folder of ours.

`up()` creates the cluster on first use (initdb), starts it on a free loopback port with its
unix socket in the same folder, creates the `skyspace` database with PostGIS and returns its
URL. When the caller is root, the server runs as the `postgres` user, as PostgreSQL requires.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from app.errors import SetupError

DATABASE = "skyspace"
SUPERUSER = "postgres"
# bulk loads of telemetry write a lot of WAL: fewer checkpoints and a larger buffer cache
TUNING = "-c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min"
_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.NNNNN"


@dataclass(frozen=True)
class Cluster:
    """Where an embedded cluster lives and how to reach it."""

    root: Path  # the folder holding data/, the log and the socket
    port: int

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the skyspace database in this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"


def find_bindir() -> Path:
    """Locate the PostgreSQL server binaries (initdb, pg_ctl), or say what to install."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    for initdb_dir in (shutil.which("initdb"),):
        if initdb_dir:
            candidates.append(Path(initdb_dir).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise SetupError(
        "PostgreSQL server binaries not found (looked at `pg_config --bindir` and "
        "/usr/lib/postgresql/*/bin); install them: apt-get install postgresql "
        "postgresql-15-postgis-3 (or run scripts/install-system-deps), "
        "or set SKYSPACE_DATABASE_URL to an existing PostGIS database"
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _postgres_can_reach(path: Path) -> bool:
    """True when the postgres user can traverse every parent of `path`."""
    if not _is_root():
        return True
    probe = path
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["test", "-x", str(probe)], user=SUPERUSER, group=SUPERUSER, capture_output=True
    )
    return result.returncode == 0


def cluster_root(pg_dir: Path) -> Path:
    """The folder that actually holds the cluster for the configured `pg_dir`.

    When we run as root, the server runs as `postgres`, which must be able to reach the folder.
    If a parent (such as /root) is closed to it, the cluster lives in a stable stand-in under
    /var/tmp named after the configured folder, so that up, down and url agree.
    """
    pg_dir = pg_dir.expanduser().resolve()
    if _postgres_can_reach(pg_dir) and len(str(pg_dir)) <= _SOCKET_PATH_LIMIT:
        return pg_dir
    digest = hashlib.sha1(str(pg_dir).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"skyspace-pg-{digest}"


def _run(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool, as the postgres user when we are root."""
    kwargs: dict[str, object] = {}
    if _is_root():
        kwargs = {"user": SUPERUSER, "group": SUPERUSER, "extra_groups": []}
    result = subprocess.run(args, capture_output=True, text=True, cwd="/", **kwargs)  # type: ignore[call-overload]
    if check and result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise SetupError(f"{Path(args[0]).name} failed: {message[-1] if message else 'no output'}")
    return result


def _chown_to_postgres(path: Path) -> None:
    if _is_root():
        try:
            entry = pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise SetupError(
                "running as root needs a `postgres` system user to run the server; "
                "install PostgreSQL with apt (it creates the user) or run as a normal user"
            ) from exc
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _running_port(root: Path) -> int | None:
    """The port of the server running on `root/data`, or None when it is not running."""
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        return None
    status = _run([str(find_bindir() / "pg_ctl"), "status", "-D", str(data)], check=False)
    if status.returncode != 0:
        return None
    pid_file = data / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        return int(lines[3])
    except (OSError, IndexError, ValueError):
        return None


def status(pg_dir: Path) -> Cluster | None:
    """The running cluster for `pg_dir`, or None."""
    root = cluster_root(pg_dir)
    port = _running_port(root)
    return Cluster(root, port) if port else None


def _init(root: Path, bindir: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    _chown_to_postgres(root)
    os.chmod(root, 0o700)
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
    )


def _start(root: Path, bindir: Path) -> int:
    port_file = root / "port"
    port = None
    if port_file.exists():
        try:
            port = int(port_file.read_text().strip())
        except ValueError:
            port = None
    if port is None or not _port_is_free(port):
        port = _free_port()
    port_file.write_text(f"{port}\n")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 {TUNING}"
    _run(
        [
            str(bindir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(root / "data"),
            "-l",
            str(root / "postgres.log"),
            "-o",
            options,
        ]
    )
    return port


def _ensure_database(cluster: Cluster) -> None:
    """Create the skyspace database with PostGIS in a started cluster."""
    admin = f"host=127.0.0.1 port={cluster.port} user={SUPERUSER} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
        if not available:
            major = conn.execute("SHOW server_version_num").fetchone()
            version = int(major[0]) // 10000 if major else 15
            raise SetupError(
                f"PostGIS is not installed for PostgreSQL {version}: "
                f"apt-get install postgresql-{version}-postgis-3 "
                "(or run scripts/install-system-deps)"
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if not exists.fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    with psycopg.connect(
        f"host=127.0.0.1 port={cluster.port} user={SUPERUSER} dbname={DATABASE}", autocommit=True
    ) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def up(pg_dir: Path) -> Cluster:
    """Start (or reuse) the embedded cluster and make sure the skyspace database exists."""
    bindir = find_bindir()
    root = cluster_root(pg_dir)
    port = _running_port(root)
    if port is None:
        if not (root / "data" / "PG_VERSION").exists():
            _init(root, bindir)
        port = _start(root, bindir)
    cluster = Cluster(root, port)
    _ensure_database(cluster)
    return cluster


def down(pg_dir: Path) -> bool:
    """Stop the embedded cluster; returns False when it was not running."""
    root = cluster_root(pg_dir)
    if _running_port(root) is None:
        return False
    _run([str(find_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(root / "data")])
    return True


def wait_until_ready(dsn: str, timeout: float) -> None:
    """Wait until `dsn` accepts connections, or raise SetupError after `timeout` seconds."""
    libpq_dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(libpq_dsn, connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
            time.sleep(0.5)
    raise SetupError(f"database not reachable after {timeout:.0f} s: {last_error}")
