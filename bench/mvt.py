"""Vector-tile benchmark: skyspace vs tipg on the same flights table, and the raw query.

    .venv/bin/python bench/mvt.py [--clips 1500] [--records 1200] [--tiles 300] [--runs 3]

Loads the benchmark-sized batch (bench/ingest.py's synthetic clips) into a throwaway
database, starts skyspace and tipg, each behind one uvicorn worker on loopback, and fetches the
same tiles (zooms 10-16, where the flights are) from both with the same concurrency. Also runs
skyspace's tile SQL straight on the database with the same concurrency ("raw query").
Prints tiles/s for each and the ratios (goal: >= 1.0x tipg and >= 0.8x the raw query).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import mapbox_vector_tile
import morecantile
import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import mvt
from app.db.batch import ingest_paths
from app.db.engine import read_only
from bench import load
from bench.ingest import bench_database, write_batch
from bench.load import Reply
from tests.conftest import drop_database

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(app: str, port: int, env: dict[str, str], factory: bool = False):
    args = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", "1"]
    args += ["--log-level", "warning"] + (["--factory"] if factory else [])
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def pick_tiles(url: str, count: int) -> list[morecantile.Tile]:
    """Tiles at zooms 10-16 around random sample positions (distinct, seeded)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        points = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM samples TABLESAMPLE SYSTEM (5) LIMIT 20000")
        ).all()
    engine.dispose()
    rng = np.random.default_rng(11)
    tms = morecantile.tms.get("WebMercatorQuad")
    tiles: dict[tuple, morecantile.Tile] = {}
    while len(tiles) < count:
        lon, lat = points[int(rng.integers(len(points)))]
        tile = tms.tile(lon, lat, int(rng.integers(10, 17)))
        tiles[(tile.z, tile.x, tile.y)] = tile
    return list(tiles.values())


def fetch_all(urls: list[str]) -> tuple[float, list[Reply]]:
    """GET every URL with CONCURRENCY keep-alive connections."""
    return load.fetch_all(urls, CONCURRENCY)


def raw_queries(url: str, tiles: list) -> float:
    engine = read_only(create_engine(url, pool_size=CONCURRENCY))

    def one(tile) -> bytes:
        with engine.connect() as conn:
            return mvt.flights_tile(conn, tile.z, tile.x, tile.y, mvt.TileFilter())

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, tiles[:CONCURRENCY]))  # open the connections
        started = time.perf_counter()
        list(pool.map(one, tiles))
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def feature_ids(reply: Reply, layer: str) -> set:
    """Flight ids in a tile reply (an error reply counts as its status)."""
    if reply.status_code not in (200, 204):
        return {f"HTTP {reply.status_code}: {reply.text[:80]}"}
    if not reply.content:
        return set()
    features = mapbox_vector_tile.decode(reply.content).get(layer, {}).get("features", [])
    return {f["properties"].get("id", f.get("id")) for f in features}


def compare(ours: list[Reply], theirs: list[Reply]) -> tuple[int, int, int]:
    """Tiles with the same flights; tiles differing only by flights in our buffer; tipg errors."""
    from shapely.geometry import box, shape

    tile_box = box(0, 0, mvt.EXTENT, mvt.EXTENT)
    agree = buffer_only = failed = 0
    for mine, other in zip(ours, theirs, strict=True):
        if other.status_code >= 500:
            failed += 1
            continue
        mine_ids, other_ids = feature_ids(mine, "flights"), feature_ids(other, "default")
        if mine_ids == other_ids:
            agree += 1
            continue
        features = mapbox_vector_tile.decode(mine.content, default_options={"y_coord_down": True})
        extra = [
            f
            for f in features["flights"]["features"]
            if f.get("id", f["properties"].get("id")) in mine_ids - other_ids
        ]
        in_buffer = not any(shape(f["geometry"]).intersects(tile_box) for f in extra)
        if other_ids <= mine_ids and in_buffer:
            buffer_only += 1
    return agree, buffer_only, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=1500)
    parser.add_argument("--records", type=int, default=1200)
    parser.add_argument("--tiles", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    paths = write_batch(args.clips, args.records)
    admin, name, url = bench_database()
    servers = []
    try:
        print(f"loading {len(paths)} flights ...", flush=True)
        engine = create_engine(url)
        ingest_paths(engine, paths)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE flights"))
        engine.dispose()
        libpq_url = url.replace("postgresql+psycopg://", "postgresql://")
        sky_port, tipg_port = free_port(), free_port()
        servers.append(
            start_server("app.main:app_factory", sky_port, {"SKYSPACE_DATABASE_URL": url}, True)
        )
        servers.append(
            start_server(
                "tipg.main:app",
                tipg_port,
                {"DATABASE_URL": libpq_url, "TIPG_DB_TABLES": '["public.flights"]'},
            )
        )
        tiles = pick_tiles(url, args.tiles)
        sky_urls = [
            f"http://127.0.0.1:{sky_port}/tiles/flights/{t.z}/{t.x}/{t.y}.mvt" for t in tiles
        ]
        tipg_urls = [
            f"http://127.0.0.1:{tipg_port}/collections/public.flights/tiles/WebMercatorQuad/"
            f"{t.z}/{t.x}/{t.y}?properties=id,name,start_time"
            for t in tiles
        ]
        # warm both up, and check they agree on what is in the tiles
        _, sky_bodies = fetch_all(sky_urls)
        _, tipg_bodies = fetch_all(tipg_urls)
        agree, buffer_only, tipg_failed = compare(sky_bodies, tipg_bodies)
        empty = sum(1 for reply in sky_bodies if reply.status_code == 204)
        sky_s = statistics.median(fetch_all(sky_urls)[0] for _ in range(args.runs))
        tipg_s = statistics.median(fetch_all(tipg_urls)[0] for _ in range(args.runs))
        raw_s = statistics.median(raw_queries(url, tiles) for _ in range(args.runs))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        drop_database(admin, name)

    count = len(tiles)
    print(
        f"{count} tiles at zooms 10-16 ({empty} empty), concurrency {CONCURRENCY}, "
        f"median of {args.runs} run(s)"
    )
    print(
        f"same flights as tipg in {agree}/{count} tiles; {buffer_only} more tiles differ only by "
        f"flights inside skyspace's {mvt.BUFFER}-px buffer; tipg failed on {tipg_failed} tiles"
    )
    print(f"skyspace : {count / sky_s:8.1f} tiles/s")
    print(f"tipg     : {count / tipg_s:8.1f} tiles/s")
    print(f"raw query: {count / raw_s:8.1f} tiles/s")
    print(f"skyspace / tipg      = {tipg_s / sky_s:.2f}x  (goal >= 1.0x)")
    print(f"skyspace / raw query = {raw_s / sky_s:.2f}x  (goal >= 0.8x)")


if __name__ == "__main__":
    main()
