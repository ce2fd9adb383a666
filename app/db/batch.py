"""Batch ingest: parse files in a worker process while the database loads the previous ones.

Parsing is CPU work in Python; loading is CPU work in the PostgreSQL backend. Running them in
two processes keeps both cores busy, so a batch goes at the pace of the slower of the two.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from app.db.flights import FlightOptions
from app.db.footprints import store_with_footprints
from app.errors import SkyspaceError
from app.ingest import Track, parse_file


def parse_path(job: tuple[str, str | None, datetime | None]) -> tuple[str, Track | Exception]:
    """Read and parse one file (runs in a worker process); errors are returned, not raised."""
    path, fmt, start_time = job
    try:
        return path, parse_file(Path(path).read_bytes(), path, fmt).build(start_time)
    except (SkyspaceError, OSError) as exc:
        return path, exc


def parsed_ahead(pool: Executor, jobs: list, ahead: int = 4) -> Iterator[tuple[str, object]]:
    """Parse results in order, with at most `ahead` parses in flight (bounded memory)."""
    pending: deque = deque()
    for job in jobs:
        pending.append(pool.submit(parse_path, job))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@dataclass
class BatchResult:
    """What a batch ingest did."""

    flight_ids: list[int] = field(default_factory=list)
    samples: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def ingest_paths(
    engine: Engine,
    paths: list[Path],
    *,
    fmt: str | None = None,
    start_time: datetime | None = None,
    options_for: Callable[[Path], FlightOptions] | None = None,
    keep_going: bool = False,
    on_file: Callable[[], None] | None = None,
    max_range: float = 5000.0,
) -> BatchResult:
    """Ingest files as flights, one transaction each; stop at the first bad file unless told."""
    result = BatchResult()
    jobs = [(str(path), fmt, start_time) for path in paths]
    with ProcessPoolExecutor(max_workers=1) as pool:
        for path, parsed in parsed_ahead(pool, jobs):
            if isinstance(parsed, Exception):
                reason = parsed.detail if isinstance(parsed, SkyspaceError) else str(parsed)
                if not keep_going:
                    raise SkyspaceError(f"{path}: {reason}")
                result.failures.append((path, reason))
            else:
                assert isinstance(parsed, Track)
                options = options_for(Path(path)) if options_for else FlightOptions(Path(path).name)
                with engine.begin() as conn:
                    flight_id, _ = store_with_footprints(conn, parsed, options, max_range)
                result.flight_ids.append(flight_id)
                result.samples += len(parsed)
            if on_file:
                on_file()
    return result
