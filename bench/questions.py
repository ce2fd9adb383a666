"""Question benchmark: `visible` and `relation` latency, and the time to export a benchmark.

    .venv/bin/python bench/questions.py [--clips 1500] [--records 1200] [--landmarks 100000]
                                        [--questions 18000] [--queries 400]

On a throwaway database of the embedded cluster it loads the benchmark-sized batch:
bench/ingest.py's synthetic clips (1,500 x 1,200 frames at 30 fps) with a camera, so every
frame's footprint is stored (1.8 million), 100,000 synthetic buildings scattered along the
flights, and one 8192 x 8192 aerial COG under all of them. Then:
  1. `GET /flights/{id}/visible` and `GET /flights/{id}/relation` at random flights, instants
     and nearby landmarks, one at a time against one uvicorn worker: p50 / p99 latency;
  2. `skyspace questions` in-process: 18,000 questions (1,500 per task) with their images.
Prints the figures against the goals (p99 < 50 ms; export < 10 minutes) and the query plans.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from shapely.geometry import box
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db.batch import ingest_paths
from app.db.features import VISIBLE_SQL, insert_features
from app.db.flights import FlightOptions, samples_sql
from app.db.relations import FEATURES_SQL
from app.db.scenes import register_raster
from app.questions.export import export
from app.settings import Settings
from app.synthetic.scenes import write_geotiff
from bench.ingest import CACHE, bench_database, write_batch
from bench.load import fetch_all, latency_ms
from bench.mvt import free_port, start_server
from bench.tiles import textured
from tests.conftest import drop_database

CAMERA = {"width": 1920, "height": 1080, "hfov_deg": 82.0}


def buildings_along(engine, count: int, seed: int = 9) -> int:
    """`count` 8-30 m buildings within 250 m of random points of the flights' paths."""
    rng = np.random.default_rng(seed)
    with engine.connect() as conn:
        points = np.array(
            conn.execute(
                text(
                    "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_DumpPoints(ST_Simplify("
                    "ST_Force2D(path), 0.0002))).geom AS g FROM flights) q"
                )
            ).all()
        )
    picks = points[rng.integers(0, len(points), count)]
    scale = 1 / 111_320.0
    offsets = rng.uniform(-250, 250, (count, 2)) * scale
    sizes = rng.uniform(8, 30, (count, 2)) * scale
    offsets[:, 0] /= np.cos(np.radians(picks[:, 1]))  # metres east are wider in degrees
    centres = picks + offsets
    rows = [
        ("building", None, box(x - w / 2, y - h / 2, x + w / 2, y + h / 2), {})
        for (x, y), (w, h) in zip(centres, sizes, strict=True)
    ]
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            insert_features(conn, rows[start : start + 10_000], source="bench")
    return count


def the_aerial(bounds: tuple[float, float, float, float], size: int = 8192) -> Path:
    path = CACHE / f"questions-aerial-{size}.tif"
    if not path.exists():
        print(f"writing a {size} x {size} aerial COG over the flights ...", flush=True)
        write_geotiff(path, textured(size), crs="EPSG:4326", bounds=bounds, profile="jpeg")
    return path


def query_urls(engine, port: int, count: int, seed: int = 4) -> tuple[list[str], list[str]]:
    """Random flight, instant and a landmark near the drone for each query."""
    rng = np.random.default_rng(seed)
    base = f"http://127.0.0.1:{port}"
    visible, relation = [], []
    with engine.connect() as conn:
        flights = conn.execute(text("SELECT id, sample_count FROM flights")).all()
        for _ in range(count):
            flight_id, samples = flights[int(rng.integers(len(flights)))]
            t = float(rng.uniform(1.0, samples / 30.0 - 1.0))
            feature = conn.execute(  # the landmark nearest the drone (GiST k-NN)
                text(
                    "SELECT f.id FROM features f ORDER BY f.geom <-> (SELECT s.geom FROM "
                    "samples s WHERE s.flight_id = :id AND s.t >= :t ORDER BY s.t LIMIT 1) "
                    "LIMIT 1"
                ),
                {"id": flight_id, "t": t},
            ).scalar_one()
            visible.append(f"{base}/flights/{flight_id}/visible?t={t:.3f}")
            relation.append(f"{base}/flights/{flight_id}/relation?t={t:.3f}&feature_id={feature}")
    return visible, relation


def explain(engine, sql: str, params: dict) -> str:
    with engine.connect() as conn:
        rows = conn.execute(text(f"EXPLAIN {sql}"), params).all()
    return "\n".join("      " + (r[0] if len(r[0]) < 140 else r[0][:137] + "...") for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=1500)
    parser.add_argument("--records", type=int, default=1200)
    parser.add_argument("--landmarks", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=18_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    paths = write_batch(args.clips, args.records, legs=4)
    admin, name, url = bench_database()
    server = None
    try:
        engine = create_engine(url)
        started = time.perf_counter()
        result = ingest_paths(
            engine, paths, options_for=lambda p: FlightOptions(p.name, camera=dict(CAMERA))
        )
        print(
            f"loaded {len(result.flight_ids)} flights, {result.samples:,} frames with their "
            f"footprints in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        started = time.perf_counter()
        buildings_along(engine, args.landmarks)
        print(f"{args.landmarks:,} landmarks in {time.perf_counter() - started:.1f} s", flush=True)
        with engine.connect() as conn:
            extent = conn.execute(
                text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent(path)::geometry AS e FROM flights) q"
                )
            ).one()
        bounds = (extent[0] - 0.01, extent[1] - 0.01, extent[2] + 0.01, extent[3] + 0.01)
        folder = Path(tempfile.mkdtemp(prefix="skyspace-bench-"))
        register_raster(
            engine,
            folder,
            name="bench aerial",
            path=str(the_aerial(bounds)),
            kind="aerial",
            acquired_at=None,
            managed=None,
        )
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            footprints = conn.execute(text("SELECT count(*) FROM footprints")).scalar_one()
            features = conn.execute(text("SELECT count(*) FROM features")).scalar_one()
        print(f"database: {footprints:,} footprints, {features:,} landmarks", flush=True)

        port = free_port()
        env = {"SKYSPACE_DATABASE_URL": url, "SKYSPACE_DATA_DIRS": str(CACHE)}
        server = start_server("app.main:app_factory", port, env, True)
        visible, relation = query_urls(engine, port, args.queries)
        fetch_all(visible[:20] + relation[:20], 1)  # warm up
        _, visible_replies = fetch_all(visible, 1)
        _, relation_replies = fetch_all(relation, 1)
        failed = [r for r in visible_replies + relation_replies if r.status_code != 200]
        assert not failed, failed[0].text
        v50, v99 = latency_ms(visible_replies)
        r50, r99 = latency_ms(relation_replies)
        print(
            f"visible   p50 {v50:6.1f} ms  p99 {v99:6.1f} ms  ({args.queries} queries, "
            f"goal p99 < 50 ms: {'met' if v99 < 50 else 'NOT met'})"
        )
        print(
            f"relation  p50 {r50:6.1f} ms  p99 {r99:6.1f} ms  ({args.queries} queries, "
            f"goal p99 < 50 ms: {'met' if r99 < 50 else 'NOT met'})"
        )
        print("  plans (no planner settings changed):")
        print(
            "    samples window:\n"
            + explain(engine, samples_sql(True, True), {"id": 7, "start": 10.0, "end": 20.0})
        )
        print(
            "    landmarks by id:\n"
            + explain(engine, FEATURES_SQL, {"ids": [5], "lon": 2.1, "lat": 41.4})
        )
        with engine.connect() as conn:
            square = conn.execute(
                text("SELECT ST_AsBinary(polygon) FROM footprints WHERE flight_id = 7 LIMIT 1")
            ).scalar_one()
        print(
            "    landmarks in a footprint (visible):\n"
            + explain(
                engine, VISIBLE_SQL.format(condition=""), {"polygon": bytes(square), "class": None}
            )
        )
        server.terminate()
        server.wait(10)
        server = None

        per_task = max(1, args.questions // 12)
        out = Path(tempfile.mkdtemp(prefix="skyspace-questions-"))
        started = time.perf_counter()
        summary = export(
            url,
            Settings(database_url=url, data_dirs=[CACHE]),
            list(result.flight_ids),
            out,
            per_task=per_task,
            seed=0,
            workers=args.workers,
        )
        seconds = time.perf_counter() - started
        print(summary.table())
        total = sum(summary.written.values())
        print(
            f"export: {total:,} questions and {summary.images:,} images in {seconds:.0f} s "
            f"({total / seconds:.1f} questions/s; goal 18,000 in under 600 s: "
            f"{'met' if seconds < 600 and total >= 18_000 else 'NOT met'}) -> {out}"
        )
        engine.dispose()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        drop_database(admin, name)


if __name__ == "__main__":
    main()
