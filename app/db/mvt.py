"""Vector tiles built in PostGIS: ST_AsMVT over an index-friendly `&&` filter.

Geometries are stored in WGS84, so the filter compares them with the tile envelope (plus the
buffer) transformed to 4326, which the GiST index answers; only the rows that pass are
simplified to the tile's resolution, transformed to Web Mercator and clipped by ST_AsMVTGeom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import morecantile
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Connection

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


_BOUNDS = """
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS tile,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326)
               AS filter
)"""
LAYERS = {
    "flights": _BOUNDS
    + """, rows AS (
    SELECT f.id, f.name, to_char(f.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               AS start_time,
           ST_AsMVTGeom(
               ST_Transform(ST_Simplify(ST_Force2D(f.path), %(tolerance)s), 3857),
               bounds.tile, %(extent)s, %(buffer)s, true) AS geom
    FROM flights f, bounds
    WHERE f.path && bounds.filter {conditions}
)
SELECT ST_AsMVT(rows, 'flights', %(extent)s, 'geom', 'id') FROM rows WHERE geom IS NOT NULL
""",
    "footprints": _BOUNDS
    + """, rows AS (
    SELECT p.flight_id, p.t, p.partial, p.gsd_m,
           ST_AsMVTGeom(ST_Transform(p.polygon, 3857), bounds.tile, %(extent)s, %(buffer)s, true)
               AS geom
    FROM footprints p JOIN flights f ON f.id = p.flight_id, bounds
    WHERE p.polygon && bounds.filter {conditions}
    ORDER BY p.flight_id, p.t
    LIMIT %(limit)s
)
SELECT ST_AsMVT(rows, 'footprints', %(extent)s, 'geom') FROM rows WHERE geom IS NOT NULL
""",
    "features": _BOUNDS
    + """, rows AS (
    SELECT f.id, f.class, f.name,
           ST_AsMVTGeom(ST_Transform(ST_Simplify(f.geom, %(tolerance)s), 3857), bounds.tile,
                        %(extent)s, %(buffer)s, true) AS geom
    FROM features f, bounds
    WHERE f.geom && bounds.filter {conditions}
    LIMIT %(limit)s
)
SELECT ST_AsMVT(rows, 'features', %(extent)s, 'geom', 'id') FROM rows WHERE geom IS NOT NULL
""",
}
MAX_FOOTPRINTS_PER_TILE = 20_000


def layer_query(layer: str, z: int, x: int, y: int, tile_filter: TileFilter) -> tuple[str, dict]:
    """The SQL and parameters (psycopg style) of one layer of one tile."""
    check_tile(z, x, y)
    conditions, params = [], {}
    if layer == "features":  # the flight filters do not apply to landmarks
        tile_filter = TileFilter()
    if tile_filter.ids is not None:
        conditions.append("AND f.id = ANY(%(ids)s)")
        params["ids"] = tile_filter.ids
    if tile_filter.start is not None:
        conditions.append("AND f.end_time >= %(start)s")
        params["start"] = tile_filter.start
    if tile_filter.end is not None:
        conditions.append("AND f.start_time <= %(end)s")
        params["end"] = tile_filter.end
    params |= {
        "z": z,
        "x": x,
        "y": y,
        "margin": BUFFER / EXTENT,
        "tolerance": _tolerance_deg(z),
        "extent": EXTENT,
        "buffer": BUFFER,
        "limit": MAX_FOOTPRINTS_PER_TILE,
    }
    return LAYERS[layer].format(conditions=" ".join(conditions)), params


def flights_query(z: int, x: int, y: int, tile_filter: TileFilter) -> tuple[str, dict]:
    """The `flights` layer's SQL (kept for the benchmark's raw query)."""
    return layer_query("flights", z, x, y, tile_filter)


def flights_tile(conn: Connection, z: int, x: int, y: int, tile_filter: TileFilter) -> bytes:
    """The `flights` layer of one tile over a SQLAlchemy connection (empty bytes: no data)."""
    sql, params = flights_query(z, x, y, tile_filter)
    row = conn.connection.driver_connection.execute(sql, params).fetchone()
    return bytes(row[0] or b"") if row else b""


async def layer_tile_async(
    pool: AsyncConnectionPool, layer: str, z: int, x: int, y: int, tile_filter: TileFilter
) -> bytes:
    """One layer's tile over the async pool the tile endpoints use."""
    sql, params = layer_query(layer, z, x, y, tile_filter)
    async with pool.connection() as conn:
        cursor = await conn.execute(sql, params)
        row = await cursor.fetchone()
    return bytes(row[0] or b"") if row else b""
