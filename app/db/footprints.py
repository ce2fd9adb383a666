"""Camera footprints of a flight: computed for every sample and bulk-stored in PostGIS."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, text

from app.db.copy import Column, copy_rows
from app.db.flights import FlightOptions, get_flight, load_samples, store_flight, track_samples
from app.errors import InvalidInput
from app.geometry.camera import CameraSpecError, Intrinsics
from app.geometry.cameras import known_model, resolve_camera
from app.geometry.poses import poses_from_samples
from app.geometry.projection import Footprints, Poses, footprints
from app.ingest import Track, parse_file

CHUNK = 8_000  # poses per vectorised batch (bounded memory; fastest of 1k-20k in bench)


def flight_camera(row: Any) -> Intrinsics:
    """The flight's intrinsics (request camera, else the camera table), or InvalidInput."""
    spec = row.camera
    if spec and "intrinsics" in spec:
        spec = {k: v for k, v in spec["intrinsics"].items() if k != "hfov_deg"}
    camera = resolve_camera(spec, row.camera_model)
    if camera is None:
        raise InvalidInput(
            f"flight {row.id} has no camera: PATCH /flights/{row.id} with a camera object "
            "(width, height and hfov_deg, focal_mm + sensor_width_mm, focal35_mm, or a model)",
            code="no_camera",
        )
    return camera


def flight_poses(conn: Connection, row: Any, **bounds: float | None) -> tuple[dict, Poses]:
    """The samples of a flight (optionally between t bounds) and their camera poses."""
    samples = load_samples(conn, row.id, **bounds)
    poses = poses_from_samples(
        samples, reference=row.altitude_reference, takeoff_elevation=row.takeoff_elevation
    )
    return samples, poses


def compute(
    camera: Intrinsics, poses: Poses, max_range: float, workers: int | None = None
) -> Footprints:
    """Footprints of many poses, in chunks spread over threads (numpy and pyproj release
    the GIL, so the chunks run on every core)."""
    starts = range(0, len(poses), CHUNK)

    def one(start: int) -> Footprints:
        rows = np.arange(start, min(start + CHUNK, len(poses)))
        return footprints(camera, poses.take(rows), max_range)

    if len(starts) <= 1:
        parts = [one(start) for start in starts]
    else:
        with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
            parts = list(pool.map(one, starts))
    return Footprints(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("lon", "lat", "partial", "valid", "center_ground", "gsd_m")
        )
    )


def copy_footprints(
    conn: Connection, flight_id: int, t: np.ndarray, prints: Footprints, camera_lonlat: np.ndarray
) -> int:
    """Replace the flight's stored footprints with these (binary COPY); returns the count."""
    conn.execute(text("DELETE FROM footprints WHERE flight_id = :id"), {"id": flight_id})
    keep = prints.valid
    if not keep.any():
        return 0
    columns = [
        Column("flight_id", "int8", np.full(int(keep.sum()), flight_id, dtype=np.int64)),
        Column("t", "float8", t[keep]),
        Column("polygon", "polygon", np.stack([prints.lon[keep], prints.lat[keep]], axis=-1)),
        Column("partial", "bool", prints.partial[keep]),
        Column("camera_ground", "point", camera_lonlat[keep]),
        Column("center_ground", "point", prints.center_ground[keep]),
        Column("gsd_m", "float8", prints.gsd_m[keep]),
    ]
    copy_rows(conn, "footprints", columns)
    return int(keep.sum())


def refresh_footprints(conn: Connection, flight_id: int, max_range: float) -> int:
    """Compute and store every sample's footprint for a flight that has a camera."""
    row = get_flight(conn, flight_id)
    camera = flight_camera(row)
    samples, poses = flight_poses(conn, row)
    prints = compute(camera, poses, max_range)
    camera_lonlat = np.stack([samples["lon"], samples["lat"]], axis=-1)
    return copy_footprints(conn, flight_id, samples["t"], prints, camera_lonlat)


def refresh_many(
    engine: Engine, flight_ids: list[int], max_range: float, workers: int | None = None
) -> dict[int, int]:
    """`refresh_footprints` for many flights, one transaction each, on parallel connections
    (the database builds the GiST entries of one flight while another is computed)."""

    def one(flight_id: int) -> int:
        with engine.begin() as conn:
            return refresh_footprints(conn, flight_id, max_range)

    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        return dict(zip(flight_ids, pool.map(one, flight_ids), strict=True))


def camera_from_exif(track: Track) -> dict[str, Any] | None:
    """A camera object for photos whose EXIF model is in the table (with the photo size)."""
    exif = track.properties.get("exif_camera") or {}
    if known_model(exif.get("model")) is None:
        return None
    return {"model": exif["model"], "width": exif["width"], "height": exif["height"]}


def store_with_footprints(
    conn: Connection, track: Track, options: FlightOptions, max_range: float
) -> tuple[int, int]:
    """Store a flight and, when its camera is known, every sample's footprint; (id, count)."""
    if options.camera is None:
        options.camera = camera_from_exif(track)
    if options.camera is not None:
        options.camera = {**options.camera, "intrinsics": camera_spec_intrinsics(options.camera)}
    flight_id = store_flight(conn, track, options)
    row = get_flight(conn, flight_id)
    if row.camera is None and known_model(row.camera_model) is None:
        return flight_id, 0
    camera = flight_camera(row)
    samples = track_samples(track, row.altitude_reference)
    poses = poses_from_samples(
        samples, reference=row.altitude_reference, takeoff_elevation=row.takeoff_elevation
    )
    prints = compute(camera, poses, max_range)
    lonlat = np.stack([samples["lon"], samples["lat"]], axis=-1)
    return flight_id, copy_footprints(conn, flight_id, samples["t"], prints, lonlat)


def camera_spec_intrinsics(spec: dict[str, Any]) -> dict[str, Any]:
    """The resolved intrinsics of a camera object, or InvalidInput naming the problem."""
    try:
        camera = resolve_camera({k: v for k, v in spec.items() if k != "intrinsics"}, None)
    except CameraSpecError as exc:
        raise InvalidInput(str(exc)) from None
    assert camera is not None
    return camera.to_dict()


def ingest_file(
    engine: Engine,
    data: bytes,
    *,
    filename: str,
    fmt: str | None,
    mapping: dict[str, Any] | None,
    options: FlightOptions,
    max_range: float,
    start_time: datetime | None = None,
) -> int:
    """Parse a telemetry file and store it as one flight with its footprints; all or nothing."""
    track = parse_file(data, filename, fmt, mapping).build(start_time)
    with engine.begin() as conn:
        return store_with_footprints(conn, track, options, max_range)[0]
