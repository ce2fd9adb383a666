"""Projection benchmark: pixels and footprints per second, against cameratransform.

    .venv/bin/python bench/projection.py [--frames 108000] [--ct-frames 2000] [--batch]

1. 10^6 pixels at one pose, pixel -> ground, median of 3-5 runs each, to local metres
   (skyspace `project_pixels_enu`, on the ellipsoid, vs cameratransform `spaceFromImage`, on
   a plane, both on one thread) and to lon/lat (skyspace `project_pixels`, pyproj for the
   geodetic step, large pixel sets split over the cores as the service does, the one-thread
   figure printed too, vs cameratransform `gpsFromImage`).
2. Footprints (the frame outline as stored at ingest, 16 border pixels, plus the centre and
   its GSD for skyspace, in lon/lat) for a flight whose pose changes every frame: skyspace
   for all frames at once, as ingest computes them (chunks on every core); cameratransform
   re-posed frame by frame on the same 16 pixels (--ct-frames frames, median of 3), once in
   local metres (`spaceFromImage`, attitude and height set per frame: the goal's figure, the
   least work on its side) and once with the same output as skyspace (`gpsFromImage`, its
   position moved per frame too).
3. With --batch: footprints of the benchmark-sized batch (1,500 clips, 1.8 million frames)
   computed, and stored with binary COPY into PostGIS (flights loaded by bench/ingest.py's
   generator first). Goals: computed < 10 s, stored < 30 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.geometry.camera import from_spec
from app.geometry.projection import (
    Poses,
    outline_pixels,
    project_pixels,
    project_pixels_enu,
)
from bench.ingest import bench_database, median_time, write_batch

PER_EDGE = 4  # outline pixels per frame edge, as stored at ingest
CAMERA = from_spec({"width": 3840, "height": 2160, "hfov_deg": 82.0})


def flight_poses(frames: int, seed: int = 1) -> Poses:
    """A wandering flight: position, height and gimbal change every frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 30.0
    return Poses(
        lon=8.5 + 0.0001 * np.sin(t / 30),
        lat=47.3 + 0.00001 * t,
        height=80 + 20 * np.sin(t / 50),
        yaw=(t * 3) % 360,
        pitch=-60 + 25 * np.sin(t / 20) + rng.normal(0, 0.5, frames),
        roll=rng.normal(0, 1, frames),
        ground=np.zeros(frames),
    )


def cameratransform_camera(ct):
    return ct.Camera(
        ct.RectilinearProjection(focallength_px=CAMERA.fx, image=(CAMERA.width, CAMERA.height)),
        ct.SpatialOrientation(elevation_m=100, tilt_deg=30, heading_deg=0, roll_deg=0),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=108_000)
    parser.add_argument("--ct-frames", type=int, default=2_000)
    parser.add_argument("--batch", action="store_true")
    args = parser.parse_args()
    import cameratransform as ct

    rng = np.random.default_rng(0)
    u, v = rng.uniform(0, CAMERA.width, 1_000_000), rng.uniform(0, CAMERA.height, 1_000_000)
    pose = Poses.one(8.5, 47.3, 100.0, 0.0, -60.0, 0.0)
    local = median_time(5, lambda: project_pixels_enu(CAMERA, pose, u, v, 5000.0))
    geographic = median_time(3, lambda: project_pixels(CAMERA, pose, u, v, 5000.0))
    camera = cameratransform_camera(ct)
    points = np.column_stack([u, v])
    theirs = median_time(5, lambda: camera.spaceFromImage(points))
    camera.setGPSpos(47.3, 8.5, 0.0)
    theirs_gps = median_time(3, lambda: camera.gpsFromImage(points))
    one_thread = median_time(5, lambda: project_pixels.__wrapped__(CAMERA, pose, u, v, 5000.0))
    print(
        f"pixels, 10^6 at one pose, to local metres: skyspace {1 / local:6.2f} M px/s | "
        f"cameratransform spaceFromImage {1 / theirs:6.2f} M px/s | ratio {theirs / local:.2f}x "
        "(goal >= 1.0x)"
    )
    print(
        f"pixels, 10^6 at one pose, to lon/lat:      skyspace {1 / geographic:6.2f} M px/s | "
        f"cameratransform gpsFromImage   {1 / theirs_gps:6.2f} M px/s | "
        f"ratio {theirs_gps / geographic:.2f}x (on one thread: {1 / one_thread:.2f} M px/s, "
        f"{theirs_gps / one_thread:.2f}x)"
    )

    from app.db.footprints import compute

    poses = flight_poses(args.frames)
    ours = median_time(3, lambda: compute(CAMERA, poses, 5000.0))  # as ingest does: all cores
    one_core = median_time(3, lambda: compute(CAMERA, poses, 5000.0, workers=1))
    outline = np.column_stack(outline_pixels(CAMERA, PER_EDGE))  # the same outline
    count = min(args.ct_frames, args.frames)

    def reposed(gps: bool) -> None:
        for i in range(count):
            if gps:
                camera.setGPSpos(float(poses.lat[i]), float(poses.lon[i]), 0.0)
            camera.elevation_m = float(poses.height[i])
            camera.tilt_deg = float(90 + poses.pitch[i])
            camera.heading_deg = float(poses.yaw[i])
            camera.roll_deg = float(poses.roll[i])
            if gps:
                camera.gpsFromImage(outline)
            else:
                camera.spaceFromImage(outline)

    ours_rate = args.frames / ours
    for gps, what in ((False, "local metres"), (True, "lon/lat, moved per frame")):
        theirs_rate = count / median_time(3, lambda gps=gps: reposed(gps))
        goal = " (goal >= 100x)" if not gps else ""
        print(
            f"footprints, {args.frames:,} frames: skyspace {ours_rate:>10,.0f}/s | "
            f"cameratransform {theirs_rate:>8,.0f}/s ({what}, re-posed per frame, "
            f"{count:,} timed) | ratio {ours_rate / theirs_rate:.0f}x{goal} "
            f"(on one thread: {args.frames / one_core:,.0f}/s, "
            f"{args.frames / one_core / theirs_rate:.0f}x)"
        )
    if args.batch:
        batch()


def batch() -> None:
    from sqlalchemy import create_engine, text

    from app.db.batch import ingest_paths
    from app.db.flights import load_samples
    from app.db.footprints import compute, copy_footprints
    from app.geometry.poses import poses_from_samples
    from tests.conftest import drop_database

    paths = write_batch(1500, 1200)
    admin, name, url = bench_database()
    engine = create_engine(url)
    try:
        print("loading the 1,500-clip batch ...", flush=True)
        ids = ingest_paths(engine, paths).flight_ids
        with engine.connect() as conn:
            flights = [(fid, load_samples(conn, fid)) for fid in ids]
        all_samples = {k: np.concatenate([s[k] for _, s in flights]) for k in flights[0][1]}
        poses = poses_from_samples(all_samples, reference="takeoff", takeoff_elevation=0.0)
        started = time.perf_counter()
        prints = compute(CAMERA, poses, 5000.0)
        computed = time.perf_counter() - started
        started = time.perf_counter()
        offsets = np.cumsum([0] + [s["t"].size for _, s in flights])

        def store(i: int) -> None:
            flight_id, samples = flights[i]
            rows = slice(offsets[i], offsets[i + 1])
            part = type(prints)(
                *(
                    getattr(prints, f)[rows]
                    for f in ("lon", "lat", "partial", "valid", "center_ground", "gsd_m")
                )
            )
            with engine.begin() as conn:
                copy_footprints(
                    conn,
                    flight_id,
                    samples["t"],
                    part,
                    np.stack([samples["lon"], samples["lat"]], -1),
                )

        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # one connection per thread
            list(pool.map(store, range(len(flights))))
        stored = time.perf_counter() - started
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM footprints")).scalar_one()
        print(
            f"batch: {len(poses):,} frames, footprints computed in {computed:.1f} s "
            f"(goal < 10 s), {total:,} stored in {stored:.1f} s (goal < 30 s)"
        )
    finally:
        engine.dispose()
        drop_database(admin, name)


if __name__ == "__main__":
    main()
