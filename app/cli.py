"""The `skyspace` command line: serve, migrate, db up|down|url|wait, and the data commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.errors import SkyspaceError
from app.settings import Settings

cli = typer.Typer(
    help="skyspace: UAV–satellite cross-view data service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_cli = typer.Typer(help="The embedded PostgreSQL cluster (unless SKYSPACE_DATABASE_URL is set).")
cli.add_typer(db_cli, name="db")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _database_url(start: bool) -> str:
    from app.db.engine import resolve_database_url

    return resolve_database_url(Settings(), start=start)


@db_cli.command("up")
def db_up() -> None:
    """Start (or reuse) the embedded cluster, create the database with PostGIS, print its URL."""
    settings = Settings()
    if settings.database_url:
        typer.echo(settings.database_url)
        typer.echo("SKYSPACE_DATABASE_URL is set: using it, nothing started.", err=True)
        return
    from app.db import embedded

    cluster = embedded.up(settings.pg_dir)
    typer.echo(cluster.url)


@db_cli.command("down")
def db_down() -> None:
    """Stop the embedded cluster."""
    from app.db import embedded

    stopped = embedded.down(Settings().pg_dir)
    typer.echo("stopped" if stopped else "not running", err=True)


@db_cli.command("url")
def db_url() -> None:
    """Print the database URL in use (fails when the embedded cluster is not running)."""
    typer.echo(_database_url(start=False))


@db_cli.command("wait")
def db_wait(
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 60.0,
) -> None:
    """Wait until the configured database accepts connections."""
    from app.db.embedded import wait_until_ready

    wait_until_ready(_database_url(start=False), timeout)
    typer.echo("ready", err=True)


def _current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@cli.command()
def migrate(
    to: Annotated[
        str, typer.Option("--to", help="Target revision: 'head', a revision id, or 'base'.")
    ] = "head",
) -> None:
    """Upgrade the schema to head, or move it up or down to the revision given with --to."""
    from alembic import command
    from alembic.script import ScriptDirectory

    url = _database_url(start=False)
    config = _alembic_config(url)
    script = ScriptDirectory.from_config(config)
    current = _current_revision(url)
    if to not in ("head", "base"):
        try:
            script.get_revision(to)
        except Exception as exc:
            raise SkyspaceError(f"unknown revision {to!r}") from exc
    below_current = (
        {rev.revision for rev in script.iterate_revisions(current, "base")} - {current}
        if current
        else set()
    )
    if to == "base" or to in below_current:
        command.downgrade(config, to)
    else:
        command.upgrade(config, to)
    typer.echo(f"schema at {_current_revision(url) or 'base'} (was {current or 'base'})", err=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the API with uvicorn (starts the embedded database when no URL is set)."""
    import uvicorn

    os.environ["SKYSPACE_DATABASE_URL"] = _database_url(start=True)
    typer.echo(f"skyspace on http://{host}:{port}  (docs: /docs, health: /healthz)", err=True)
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


@cli.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Telemetry files (SRT, CSV, GPX, ...)")],
    format: Annotated[str | None, typer.Option(help="Format, detected when omitted.")] = None,
    camera: Annotated[str | None, typer.Option(help="Camera JSON object.")] = None,
    altitude_reference: Annotated[str | None, typer.Option(help="agl, takeoff or msl.")] = None,
    start_time: Annotated[
        str | None, typer.Option(help="ISO instant for files without a clock.")
    ] = None,
    keep_going: Annotated[bool, typer.Option(help="Skip bad files instead of stopping.")] = False,
) -> None:
    """Ingest files as flights, one transaction each, parsing ahead while the database loads."""
    import orjson
    from sqlalchemy import create_engine
    from tqdm import tqdm

    from app.api.params import parse_datetime
    from app.db.batch import ingest_paths
    from app.db.flights import FlightOptions

    camera_spec = orjson.loads(camera) if camera else None
    settings = Settings()
    engine = create_engine(_database_url(start=False))
    with tqdm(total=len(files), unit="file", disable=None) as bar:
        result = ingest_paths(
            engine,
            files,
            fmt=format,
            start_time=parse_datetime(start_time, "--start-time") if start_time else None,
            options_for=lambda path: FlightOptions(
                path.name,
                camera=dict(camera_spec) if camera_spec else None,
                altitude_reference=altitude_reference,
            ),
            keep_going=keep_going,
            on_file=lambda: bar.update(1),
            max_range=settings.max_range_m,
        )
    engine.dispose()
    for path, reason in result.failures:
        typer.echo(f"skipped {path}: {reason}", err=True)
    typer.echo(
        f"ingested {len(result.flight_ids)} flight(s), {result.samples} samples, "
        f"{len(result.failures)} failed",
        err=True,
    )


@cli.command()
def footprints(
    flight: Annotated[list[int], typer.Option("--flight", help="Flight id (repeatable).")],
) -> None:
    """Recompute and store the footprints of flights (after changing their camera)."""
    from sqlalchemy import create_engine

    from app.db.footprints import refresh_many

    settings = Settings()
    engine = create_engine(_database_url(start=False))
    try:
        counts = refresh_many(engine, list(flight), settings.max_range_m)
        for flight_id, count in counts.items():
            typer.echo(f"flight {flight_id}: {count} footprints", err=True)
    finally:
        engine.dispose()


@cli.command()
def demo(
    real: Annotated[
        bool, typer.Option(help="Also load ../shared/data (Kampala, Brighton).")
    ] = False,
) -> None:
    """Load the synthetic demo world (idempotent): a city COG, its landmarks, three flights."""
    from sqlalchemy import create_engine

    from app.demo import load_demo, load_real

    settings = Settings()
    engine = create_engine(_database_url(start=False))
    try:
        load_demo(engine, settings, echo=lambda line: typer.echo(line, err=True))
        if real:
            load_real(engine, settings, echo=lambda line: typer.echo(line, err=True))
    finally:
        engine.dispose()


@cli.command()
def questions(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the benchmark into.")],
    flights: Annotated[
        str, typer.Option("--flights", help="Comma-separated flight ids, or 'all'.")
    ] = "all",
    per_task: Annotated[int, typer.Option("--per-task", min=1, help="Questions per task.")] = 10,
    tasks: Annotated[
        str | None, typer.Option("--tasks", help="Task numbers or names, comma-separated.")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (same seed, same file).")] = 0,
    workers: Annotated[int | None, typer.Option(min=1, help="Image rendering processes.")] = None,
) -> None:
    """Export questions.jsonl and its images (crops with marks, synthetic frame views)."""
    from sqlalchemy import create_engine, text
    from tqdm import tqdm

    from app.questions.export import export
    from app.questions.seeds import TASKS, task_number

    settings = Settings()
    url = _database_url(start=False)
    engine = create_engine(url)
    try:
        if flights.strip() == "all":
            with engine.connect() as conn:
                ids = list(conn.execute(text("SELECT id FROM flights ORDER BY id")).scalars())
        else:
            try:
                ids = [int(part) for part in flights.split(",") if part.strip()]
            except ValueError:
                raise SkyspaceError("--flights: comma-separated flight ids, or 'all'") from None
        if not ids:
            raise SkyspaceError("no flights to make questions from")
        try:
            numbers = [task_number(p.strip()) for p in tasks.split(",")] if tasks else list(TASKS)
        except ValueError as error:
            raise SkyspaceError(f"--tasks: {error}") from None
        with tqdm(total=per_task * len(numbers), unit="question", disable=None) as bar:
            summary = export(
                url,
                settings,
                ids,
                out,
                per_task=per_task,
                seed=seed,
                tasks=numbers,
                workers=workers,
                progress=bar.update,
            )
        typer.echo(summary.table(), err=True)
        typer.echo(f"wrote {out / 'questions.jsonl'}", err=True)
    finally:
        engine.dispose()


def main() -> None:
    """Console entry point: one-line errors instead of tracebacks."""
    try:
        cli(standalone_mode=True)
    except SkyspaceError as exc:
        typer.echo(f"skyspace: error: {exc.detail}", err=True)
        sys.exit(1)
    except Exception as exc:  # a one-line reason, never a traceback, on the command line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        typer.echo(f"skyspace: error: {type(exc).__name__}: {reason}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
