"""Vector tiles built in PostGIS: ST_AsMVT over an index-friendly `&&` filter.

Geometries are stored in WGS84, so the filter compares them with the tile envelope (plus the
buffer) transformed to 4326, which the GiST index answers; only the rows that pass are
simplified to the tile's resolution, transformed to Web Mercator and clipped by ST_AsMVTGeom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import morecantile
from sqlalchemy import Connection, text

from app.errors import InvalidInput

EXTENT = 4096
BUFFER = 64
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


@dataclass(frozen=True)
class TileFilter:
    """Filters a client can put on a vector-tile layer."""

    ids: list[int] | None = None
    start: datetime | None = None
    end: datetime | None = None


def check_tile(z: int, x: int, y: int) -> None:
    """422 for tile indices that do not exist in WebMercatorQuad."""
    if not 0 <= z <= 24:
        raise InvalidInput(f"zoom {z} is outside 0..24")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(f"tile {z}/{x}/{y} does not exist (x and y must be below {2**z})")


def _tolerance_deg(z: int) -> float:
    """Half a tile pixel at zoom z, in degrees at the equator (a safe simplification step)."""
    return 360.0 / (2**z * EXTENT) / 2.0


FLIGHTS_SQL = """
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS filter
), rows AS (
    SELECT f.id, f.name, to_char(f.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               AS start_time,
           ST_AsMVTGeom(
               ST_Transform(ST_Simplify(ST_Force2D(f.path), :tolerance), 3857),
               bounds.tile, :extent, :buffer, true) AS geom
    FROM flights f, bounds
    WHERE f.path && bounds.filter {conditions}
)
SELECT ST_AsMVT(rows, 'flights', :extent, 'geom', 'id') FROM rows WHERE geom IS NOT NULL
"""


def flights_tile(conn: Connection, z: int, x: int, y: int, tile_filter: TileFilter) -> bytes:
    """The `flights` layer of one tile (empty bytes when nothing is there)."""
    check_tile(z, x, y)
    conditions, params = [], {}
    if tile_filter.ids is not None:
        conditions.append("AND f.id = ANY(:ids)")
        params["ids"] = tile_filter.ids
    if tile_filter.start is not None:
        conditions.append("AND f.end_time >= :start")
        params["start"] = tile_filter.start
    if tile_filter.end is not None:
        conditions.append("AND f.start_time <= :end")
        params["end"] = tile_filter.end
    sql = FLIGHTS_SQL.format(conditions=" ".join(conditions))
    result = conn.execute(
        text(sql),
        {
            "z": z,
            "x": x,
            "y": y,
            "margin": BUFFER / EXTENT,
            "tolerance": _tolerance_deg(z),
            "extent": EXTENT,
            "buffer": BUFFER,
            **params,
        },
    ).scalar_one()
    return bytes(result or b"")
