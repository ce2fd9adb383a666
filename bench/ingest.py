"""Ingest benchmark: parse rate, end-to-end batch ingest rate, and raw COPY of the same rows.

    .venv/bin/python bench/ingest.py [--clips 1500] [--records 1200] [--runs 3]

Writes synthetic DJI SRT files (30 fps) under a cache folder, then on a throwaway database of
the embedded cluster (or SKYSPACE_BENCH_DATABASE_URL's server):
  1. parse alone: a one-hour 30 fps file (108,000 records), median of --runs;
  2. ingest end to end: the batch (default 1,500 clips x 1,200 records = 1.8 million), the way
     `skyspace ingest` does it (a parse-ahead process, one transaction per flight);
  3. raw COPY: the same rows, already encoded, COPYed into the same table (flight rows exist),
     one transaction per flight.
Prints records/s for each, the ingest / raw COPY ratio, and the batch time against the goals
(1.8 M records in under 60 s, at >= 50 % of the raw COPY rate).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import embedded
from app.db.batch import ingest_paths
from app.db.copy import encode
from app.db.flights import choose_altitude_reference, sample_columns
from app.ingest import parse_file
from app.synthetic.flights import to_srt, transect
from tests.conftest import create_database, drop_database, migrate, with_database

CACHE = Path(os.environ.get("SKYSPACE_BENCH_CACHE", "/tmp/skyspace-bench"))


def write_batch(clips: int, records: int, legs: int = 2) -> list[Path]:
    """Synthetic clips of `records` frames at 30 fps, each a different path of `legs`
    straight legs (cached)."""
    folder = CACHE / (f"srt-{clips}x{records}" + ("" if legs == 2 else f"-{legs}legs"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(clips):
        path = folder / f"clip{i:05d}.srt"
        paths.append(path)
        if path.exists():
            continue
        origin = (2.0 + rng.uniform(0, 0.5), 41.3 + rng.uniform(0, 0.3))
        speed = 8.0
        length = records / 30.0 * speed
        if legs == 2:
            path_legs = [
                (rng.uniform(0, 360), length * 0.6),
                (rng.uniform(0, 360), length * 0.4 + 1),
            ]
        else:  # each turn between 50 and 150 degrees, left or right
            heading, path_legs = rng.uniform(0, 360), []
            for _ in range(legs):
                path_legs.append((heading, length / legs + 1))
                heading += rng.choice([-1, 1]) * rng.uniform(50, 150)
        flight = transect(origin, path_legs, speed=speed, fps=30.0)
        path.write_text(to_srt(flight))
    return paths


def one_hour_file() -> Path:
    path = CACHE / "one-hour-30fps.srt"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        flight = transect((2.17, 41.39), [(0, 20000), (90, 20000), (180, 14000)], 15.0, 30.0)
        path.write_text(to_srt(flight))
    return path


def bench_database() -> tuple[str, str, str]:
    given = os.environ.get("SKYSPACE_BENCH_DATABASE_URL")
    admin = (
        with_database(given.replace("postgresql://", "postgresql+psycopg://"), "postgres")
        if given
        else with_database(embedded.up(Path(".skyspace/pg")).url, "postgres")
    )
    name = f"skyspace_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(admin, name)
    migrate(url)
    return admin, name, url


def median_time(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=1500)
    parser.add_argument("--records", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print("writing synthetic SRT files (cached) ...", flush=True)
    hour = one_hour_file()
    paths = write_batch(args.clips, args.records)
    total = 0

    data = hour.read_bytes()
    parse_s = median_time(args.runs, lambda: parse_file(data, hour.name).build())
    print(f"parse alone      108,000 records: {parse_s:6.2f} s  {108_000 / parse_s:>10,.0f} rec/s")

    admin, name, url = bench_database()
    engine = create_engine(url)
    try:

        def truncate() -> None:
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE flights RESTART IDENTITY CASCADE"))

        ingest_times = []
        for _ in range(args.runs):
            truncate()
            started = time.perf_counter()
            result = ingest_paths(engine, paths)
            ingest_times.append(time.perf_counter() - started)
            total = result.samples
        ingest_s = statistics.median(ingest_times)

        # the same rows, encoded ahead of time; the flight rows of the last ingest stay
        print("encoding the same rows for the raw COPY ...", flush=True)
        with engine.connect() as conn:
            ids = conn.execute(text("SELECT id FROM flights ORDER BY id")).scalars().all()
        payloads = []
        names = None
        for flight_id, path in zip(ids, paths, strict=True):
            track = parse_file(path.read_bytes(), path.name).build()
            z = track.column(f"alt_{choose_altitude_reference(track, None)}")
            columns = sample_columns(flight_id, track, z)
            names = ", ".join(c.name for c in columns)
            payloads.append(b"".join(encode(columns)))

        def raw_copy() -> None:
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE samples"))
            for payload in payloads:
                with engine.begin() as conn:
                    raw = conn.connection.driver_connection
                    with (
                        raw.cursor() as cursor,
                        cursor.copy(f"COPY samples ({names}) FROM STDIN (FORMAT BINARY)") as copy,
                    ):
                        copy.write(payload)

        copy_s = median_time(args.runs, raw_copy)
    finally:
        engine.dispose()
        drop_database(admin, name)

    ingest_rate, copy_rate = total / ingest_s, total / copy_s
    print(f"ingest end to end {total:>9,} records: {ingest_s:6.2f} s  {ingest_rate:>10,.0f} rec/s")
    print(f"raw COPY          {total:>9,} records: {copy_s:6.2f} s  {copy_rate:>10,.0f} rec/s")
    print(f"ratio ingest / raw COPY: {ingest_rate / copy_rate:.2f}x   (goal >= 0.50x)")
    scaled = ingest_s * 1_800_000 / total
    print(f"1.8 M records would take {scaled:.1f} s at this rate   (goal < 60 s)")
    print(f"median of {args.runs} run(s); {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
