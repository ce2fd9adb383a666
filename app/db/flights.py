"""Flights in PostGIS: bulk storage of a parsed track (one transaction) and the reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import Connection, text

from app.db import bbox_filter, fetch_page, interval_filter
from app.db.copy import Column, copy_rows
from app.errors import InvalidInput, NotFound
from app.geometry.frames import WGS84
from app.ingest.track import COLUMN, FIELDS, Track

POSE_FIELDS = FIELDS[FIELDS.index("alt_agl") : FIELDS.index("gimbal_roll") + 1]
SAMPLE_COLUMNS = ("t", "time", "lon", "lat", "z", *POSE_FIELDS, "frame", "focal35_mm", "zoom")
SAMPLE_SELECT = (  # SQL for SAMPLE_COLUMNS, in that order
    "t, extract(epoch FROM time)::float8 AS time, ST_X(geom) AS lon, ST_Y(geom) AS lat, "
    "ST_Z(geom) AS z, " + ", ".join(POSE_FIELDS) + ", frame::float8, focal35_mm, zoom"
)
ALTITUDE_REFERENCES = ("agl", "takeoff", "msl")


@dataclass
class FlightOptions:
    """What the client says about a flight besides the file."""

    name: str
    camera: dict[str, Any] | None = None
    camera_model: str | None = None
    altitude_reference: str | None = None
    takeoff_elevation: float | None = None


def choose_altitude_reference(track: Track, requested: str | None) -> str:
    """The requested reference if the file has it, else the best one the file has."""
    if requested is not None:
        if requested not in ALTITUDE_REFERENCES:
            raise InvalidInput(
                f"altitude_reference must be one of {', '.join(ALTITUDE_REFERENCES)}"
            )
        if not track.has(f"alt_{requested}"):
            raise InvalidInput(f"altitude_reference {requested!r}: the file has no such altitude")
        return requested
    for reference in ALTITUDE_REFERENCES:
        if track.has(f"alt_{reference}"):
            return reference
    raise InvalidInput("the file has no altitude (above ground, take-off or sea level)")


def _filled(values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Missing values interpolated over time from the known ones."""
    known = np.isfinite(values)
    if known.all():
        return values
    return np.interp(t, t[known], values[known])


def path_ewkb(lon: np.ndarray, lat: np.ndarray, z: np.ndarray) -> bytes:
    """EWKB of the LINESTRING Z through the samples (a single sample is doubled)."""
    coords = np.column_stack([lon, lat, z])
    if coords.shape[0] == 1:
        coords = np.vstack([coords, coords])
    return shapely.to_wkb(shapely.linestrings(coords), include_srid=False, flavor="extended")


def track_samples(track: Track, reference: str) -> dict[str, np.ndarray]:
    """A parsed track as the sample columns `load_samples` gives (z in the reference)."""
    samples = {
        name: track.column(name)
        for name in (*POSE_FIELDS, "t", "lon", "lat", "frame", "focal35_mm", "zoom")
    }
    samples["time"] = track.column("wall")
    samples["z"] = _filled(track.column(f"alt_{reference}").copy(), track.column("t"))
    return samples


def store_flight(conn: Connection, track: Track, options: FlightOptions) -> int:
    """Insert the flight row and COPY its samples, in the caller's transaction."""
    reference = choose_altitude_reference(track, options.altitude_reference)
    t = track.column("t")
    lon, lat = track.column("lon"), track.column("lat")
    z = track_samples(track, reference)["z"]
    _, _, steps = WGS84.inv(lon[:-1], lat[:-1], lon[1:], lat[1:]) if t.size > 1 else (0, 0, [])
    wall = track.column("wall")
    row = conn.execute(
        text(
            """
            INSERT INTO flights (name, source_format, camera, camera_model, altitude_reference,
                takeoff_elevation, start_time, end_time, sample_count, dropped_count, length_m,
                path, properties)
            VALUES (:name, :source_format, CAST(:camera AS jsonb), :camera_model, :reference,
                :takeoff_elevation, :start_time, :end_time, :sample_count, :dropped_count,
                :length_m, ST_SetSRID(ST_GeomFromEWKB(:path), 4326), CAST(:properties AS jsonb))
            RETURNING id
            """
        ),
        {
            "name": options.name,
            "source_format": track.source_format,
            "camera": orjson.dumps(options.camera).decode() if options.camera else None,
            "camera_model": options.camera_model or track.camera_model,
            "reference": reference,
            "takeoff_elevation": options.takeoff_elevation,
            "start_time": datetime.fromtimestamp(float(wall[0]), UTC),
            "end_time": datetime.fromtimestamp(float(wall[-1]), UTC),
            "sample_count": len(track),
            "dropped_count": track.dropped_count,
            "length_m": float(np.sum(steps)),
            "path": path_ewkb(lon, lat, z),
            "properties": orjson.dumps(
                {**track.properties, "dropped": track.dropped}, option=orjson.OPT_SERIALIZE_NUMPY
            ).decode(),
        },
    )
    flight_id = int(row.scalar_one())
    copy_samples(conn, flight_id, track, z)
    return flight_id


def sample_columns(flight_id: int, track: Track, z: np.ndarray) -> list[Column]:
    """The samples table's columns for one flight, ready for binary COPY."""
    n = len(track)
    rows = track.rows
    columns = [
        Column("flight_id", "int8", np.full(n, flight_id, dtype=np.int64)),
        Column("t", "float8", rows[:, COLUMN["t"]]),
        Column("time", "timestamptz", rows[:, COLUMN["wall"]]),
        Column("geom", "pointz", np.column_stack([track.column("lon"), track.column("lat"), z])),
    ]
    columns += [Column(name, "float8", rows[:, COLUMN[name]]) for name in POSE_FIELDS]
    columns.append(Column("frame", "int4", rows[:, COLUMN["frame"]]))  # NaN -> NULL
    columns += [Column(name, "float8", rows[:, COLUMN[name]]) for name in ("focal35_mm", "zoom")]
    return columns


def copy_samples(conn: Connection, flight_id: int, track: Track, z: np.ndarray) -> None:
    """Binary COPY of a flight's samples over the connection's psycopg driver connection."""
    copy_rows(conn, "samples", sample_columns(flight_id, track, z))


FLIGHT_COLUMNS = """
    f.id, f.name, f.source_format, f.camera, f.camera_model, f.altitude_reference,
    f.takeoff_elevation, f.start_time, f.end_time, f.sample_count, f.dropped_count, f.length_m,
    f.properties, ST_XMin(f.path) AS xmin, ST_YMin(f.path) AS ymin, ST_XMax(f.path) AS xmax,
    ST_YMax(f.path) AS ymax
"""


def summary(row: Any) -> dict[str, Any]:
    """The flight summary clients see (also the `properties` of its GeoJSON Feature)."""
    return {
        "id": row.id,
        "name": row.name,
        "source_format": row.source_format,
        "start_time": row.start_time,
        "end_time": row.end_time,
        "duration_s": (row.end_time - row.start_time).total_seconds(),
        "sample_count": row.sample_count,
        "dropped_count": row.dropped_count,
        "dropped": (row.properties or {}).get("dropped", {}),
        "length_m": round(row.length_m, 3),
        "bbox": [row.xmin, row.ymin, row.xmax, row.ymax],
        "altitude_reference": row.altitude_reference,
        "takeoff_elevation": row.takeoff_elevation,
        "camera": row.camera,
        "camera_model": row.camera_model,
    }


def get_flight(conn: Connection, flight_id: int, *, with_path: bool = False) -> Any:
    """One flight row (with its path as GeoJSON when asked), or NotFound."""
    path = ", ST_AsGeoJSON(f.path, 7) AS path_geojson" if with_path else ""
    row = conn.execute(
        text(f"SELECT {FLIGHT_COLUMNS}{path} FROM flights f WHERE f.id = :id"), {"id": flight_id}
    ).first()
    if row is None:
        raise NotFound(f"flight {flight_id} not found")
    return row


def delete_flight(conn: Connection, flight_id: int) -> None:
    """Delete a flight with its samples and footprints, or NotFound."""
    deleted = conn.execute(text("DELETE FROM flights WHERE id = :id"), {"id": flight_id})
    if deleted.rowcount == 0:
        raise NotFound(f"flight {flight_id} not found")


def list_flights(
    conn: Connection,
    *,
    bbox: tuple[float, float, float, float] | None,
    interval: tuple[datetime | None, datetime | None] | None,
    intersects: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """A page of flights matching the filters, and how many match in all."""
    where, params = bbox_filter("f.path", bbox)
    if intersects is not None:
        where.append("ST_Intersects(f.path, ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326))")
        params["geometry"] = intersects
    conditions, values = interval_filter("f.start_time", "f.end_time", interval)
    where += conditions
    params.update(values)
    columns = f"{FLIGHT_COLUMNS}, ST_AsGeoJSON(f.path, 7) AS path_geojson"
    return fetch_page(
        conn, columns, "flights f", where, params, order="f.id", limit=limit, offset=offset
    )


def load_samples(
    conn: Connection,
    flight_id: int,
    *,
    start: float | None = None,
    end: float | None = None,
    limit: int | None = None,
) -> dict[str, np.ndarray]:
    """The flight's samples between two `t` (inclusive) as numpy columns, in time order."""
    params = {"id": flight_id, "start": start, "end": end}
    sql = samples_sql(start is not None, end is not None, limit)
    return _columns(conn.execute(text(sql), params).all())


def samples_sql(start: bool, end: bool, limit: int | None = None) -> str:
    """The samples query of `load_samples` (through the (flight_id, t) key)."""
    where = ["flight_id = :id"] + ["t >= :start"] * start + ["t <= :end"] * end
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    return f"SELECT {SAMPLE_SELECT} FROM samples WHERE {' AND '.join(where)} ORDER BY t{limit_sql}"


def _columns(rows: list[Any]) -> dict[str, np.ndarray]:
    """Sample rows (SAMPLE_SELECT) as numpy columns."""
    array = np.array(rows, dtype=np.float64).reshape(-1, len(SAMPLE_COLUMNS))
    return {name: array[:, i] for i, name in enumerate(SAMPLE_COLUMNS)}


def median_ground(conn: Connection, flight_id: int) -> float:
    """Ground height from the samples: the median of MSL minus take-off altitude (0 when the
    file has neither), computed in the database (same rule as `ground_elevation`)."""
    value = conn.execute(
        text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY alt_msl - alt_takeoff) "
            "FROM samples WHERE flight_id = :id AND alt_msl <> 'NaN' AND alt_takeoff <> 'NaN'"
        ),
        {"id": flight_id},
    ).scalar()
    return 0.0 if value is None else float(value)


def time_range(conn: Connection, flight_id: int) -> tuple[float, float, datetime]:
    """First and last `t` of a flight and its start time, or NotFound."""
    row = conn.execute(
        text(
            "SELECT min(t), max(t), (SELECT start_time FROM flights WHERE id = :id) "
            "FROM samples WHERE flight_id = :id"
        ),
        {"id": flight_id},
    ).one()
    if row[2] is None:
        raise NotFound(f"flight {flight_id} not found")
    return float(row[0]), float(row[1]), row[2]


def bracketing_samples(conn: Connection, flight_id: int, t: float) -> dict[str, np.ndarray]:
    """The samples just before (or at) and just after `t`, through the (flight_id, t) key."""
    rows = conn.execute(
        text(
            f"(SELECT {SAMPLE_SELECT} FROM samples WHERE flight_id = :id AND t <= :t "
            f"ORDER BY t DESC LIMIT 1) UNION ALL (SELECT {SAMPLE_SELECT} FROM samples "
            "WHERE flight_id = :id AND t > :t ORDER BY t LIMIT 1)"
        ),
        {"id": flight_id, "t": t},
    ).all()
    return _columns(rows)
