"""COG tile benchmark: skyspace vs TiTiler on the same 8k x 8k JPEG COG, and rio-tiler raw.

    .venv/bin/python bench/tiles.py [--size 8192] [--tiles 400] [--concurrency 4] [--runs 3]

Each server runs behind one uvicorn worker on loopback with the same GDAL settings. The same
distinct tiles (zooms where the COG has data) are fetched with the same concurrency: a cold
pass (each tile for the first time after a fresh start) and a warm pass (the same tiles again).
Prints tiles/s and p50/p99 latency for JPEG and PNG, the ratios (goal: cold >= 1.0x TiTiler,
warm >= 3x TiTiler), and the cold rate against rio-tiler's raw in-process tile + render rate
on the same tiles with the same number of threads (goal: >= 0.8x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import morecantile
import numpy as np
import orjson
import rasterio
from rio_tiler.io import Reader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.raster.service import GDAL_OPTIONS, configure_gdal
from app.synthetic.scenes import write_geotiff
from bench.ingest import CACHE, bench_database
from bench.load import fetch_all, latency_ms
from bench.mvt import free_port, start_server
from tests.conftest import drop_database

TMS = morecantile.tms.get("WebMercatorQuad")
ORIGIN = (8.50, 47.30)


def textured(size: int, seed: int = 3) -> np.ndarray:
    """An aerial-looking RGB texture: smooth fields, edges and fine noise (JPEG-realistic)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 200, (3, size // 256 + 1, size // 256 + 1)).astype(np.float32)
    smooth = np.kron(coarse, np.ones((256, 256), np.float32))[:, :size, :size]
    rows = np.arange(size, dtype=np.float32)
    stripes = (np.sin(rows / 37.0)[None, :, None] * np.cos(rows / 53.0)[None, None, :]) * 25
    noise = rng.normal(0, 12, (3, size, size)).astype(np.float32)
    return np.clip(smooth + stripes + noise, 0, 255).astype(np.uint8)


def the_cog(size: int) -> Path:
    path = CACHE / f"aerial-{size}-jpeg-cog.tif"
    if not path.exists():
        print(f"writing a {size} x {size} JPEG COG ...", flush=True)
        span = size * 0.3 / 111_320.0  # ~0.3 m pixels
        bounds = (
            ORIGIN[0],
            ORIGIN[1],
            ORIGIN[0] + span / np.cos(np.radians(ORIGIN[1])),
            ORIGIN[1] + span,
        )
        write_geotiff(path, textured(size), crs="EPSG:4326", bounds=bounds, profile="jpeg")
    return path


def pick_tiles(path: Path, count: int, seed: int = 5) -> list[morecantile.Tile]:
    """Distinct tiles fully inside the COG, spread over zooms 15-19."""
    with rasterio.open(path) as dataset:
        west, south, east, north = dataset.bounds
    rng = np.random.default_rng(seed)
    tiles: dict[tuple, morecantile.Tile] = {}
    while len(tiles) < count:
        zoom = int(rng.integers(15, 20))
        lon = rng.uniform(west, east)
        lat = rng.uniform(south, north)
        tile = TMS.tile(lon, lat, zoom)
        b = TMS.bounds(tile)
        if b.left >= west and b.right <= east and b.bottom >= south and b.top <= north:
            tiles[(tile.z, tile.x, tile.y)] = tile
    return list(tiles.values())


def raw_rate(path: Path, tiles: list, fmt: str, concurrency: int) -> float:
    """rio-tiler in-process: Reader.tile + ImageData.render (GDAL encode), same threads."""
    local = __import__("threading").local()

    def one(tile) -> bytes:
        if not hasattr(local, "reader"):
            local.reader = Reader(str(path))
        image = local.reader.tile(tile.x, tile.y, tile.z)
        return image.render(img_format=fmt.upper())

    configure_gdal()  # the same GDAL options the servers get
    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        list(pool.map(one, tiles))
        return len(tiles) / (time.perf_counter() - started)


def measure(urls: list[str], concurrency: int) -> tuple[float, float, float]:
    elapsed, replies = fetch_all(urls, concurrency)
    bad = [r for r in replies if r.status_code != 200]
    assert not bad, f"{len(bad)} failed: {bad[0].status_code} {bad[0].text[:200]}"
    p50, p99 = latency_ms(replies)
    return len(urls) / elapsed, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--tiles", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    cog = the_cog(args.size)
    tiles = pick_tiles(cog, args.tiles)
    admin, name, url = bench_database()
    env = {
        **GDAL_OPTIONS,
        "SKYSPACE_DATABASE_URL": url,
        "SKYSPACE_DATA_DIRS": str(CACHE),
        "SKYSPACE_TILE_CACHE_SIZE": str(4 * args.tiles),
    }
    results: dict[str, dict[str, list]] = {}
    try:
        for fmt in ("jpeg", "png"):
            for _ in range(args.runs):
                servers = []
                try:  # fresh servers every run, so the cold pass is cold
                    sky_port, titiler_port = free_port(), free_port()
                    servers.append(start_server("app.main:app_factory", sky_port, env, True))
                    servers.append(
                        start_server("bench.titiler_app:app", titiler_port, dict(GDAL_OPTIONS))
                    )
                    scene = _register(sky_port, cog)
                    sky = [
                        f"http://127.0.0.1:{sky_port}/scenes/{scene}/tiles/WebMercatorQuad/"
                        f"{t.z}/{t.x}/{t.y}.{fmt}"
                        for t in tiles
                    ]
                    titiler = [
                        f"http://127.0.0.1:{titiler_port}/cog/tiles/WebMercatorQuad/"
                        f"{t.z}/{t.x}/{t.y}.{fmt}?url={cog}"
                        for t in tiles
                    ]
                    for label, urls in (("skyspace", sky), ("titiler", titiler)):
                        key = results.setdefault(f"{fmt} {label}", {"cold": [], "warm": []})
                        key["cold"].append(measure(urls, args.concurrency))
                        key["warm"].append(measure(urls, args.concurrency))
                finally:
                    for server in servers:
                        server.terminate()
                        server.wait(10)
            results.setdefault(f"{fmt} raw", {"cold": []})["cold"] = [
                (raw_rate(cog, tiles, fmt, args.concurrency), 0.0, 0.0) for _ in range(args.runs)
            ]
    finally:
        drop_database(admin, name)
    report(results, len(tiles), args)


def _register(port: int, cog: Path) -> int:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = orjson.dumps({"name": "bench", "uri": str(cog), "kind": "aerial"})
    connection.request("POST", "/scenes", body, {"content-type": "application/json"})
    reply = connection.getresponse()
    data = reply.read()
    assert reply.status == 201, data
    return int(orjson.loads(data)["id"])


def median(rows: list[tuple]) -> tuple:
    return tuple(statistics.median(column) for column in zip(*rows, strict=True))


def report(results: dict, count: int, args: argparse.Namespace) -> None:
    print(
        f"{count} distinct tiles, zooms 15-19, {args.size}x{args.size} JPEG COG, "
        f"concurrency {args.concurrency}, median of {args.runs} runs, {os.cpu_count()} cores"
    )
    for fmt in ("jpeg", "png"):
        raw = median(results[f"{fmt} raw"]["cold"])[0]
        sky, tit = results[f"{fmt} skyspace"], results[f"{fmt} titiler"]
        for phase in ("cold", "warm"):
            s_rate, s50, s99 = median(sky[phase])
            t_rate, t50, t99 = median(tit[phase])
            print(
                f"{fmt:4} {phase}: skyspace {s_rate:7.1f} tiles/s (p50 {s50:6.1f} ms, p99 "
                f"{s99:6.1f} ms) | titiler {t_rate:7.1f} tiles/s (p50 {t50:6.1f} ms, p99 "
                f"{t99:6.1f} ms) | ratio {s_rate / t_rate:5.2f}x"
            )
        cold = median(sky["cold"])[0]
        print(
            f"{fmt:4} rio-tiler raw in-process: {raw:7.1f} tiles/s; skyspace cold / raw = "
            f"{cold / raw:.2f}x"
        )
    print("goals: cold >= 1.0x titiler, warm >= 3x titiler, cold >= 0.8x rio-tiler raw")


if __name__ == "__main__":
    main()
