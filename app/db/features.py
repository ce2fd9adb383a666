"""Landmarks (features) in PostGIS: bulk insert and simple reads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import orjson
from shapely import make_valid, to_wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from app.db import bbox_filter, fetch_page
from app.errors import NotFound


def insert_features(
    conn: Connection,
    features: Iterable[tuple[str, str | None, BaseGeometry, dict[str, Any]]],
    source: str,
) -> int:
    """Insert (class, name, geometry in WGS84, properties) rows; returns how many.

    Invalid outlines (real OSM buildings self-touch) are kept, repaired with `make_valid`
    and flagged `geometry_repaired`: the spatial queries need valid geometries."""
    rows = []
    for feature_class, name, geometry, properties in features:
        if not geometry.is_empty and not geometry.is_valid:
            geometry = make_valid(geometry)
            properties = {**properties, "geometry_repaired": True}
        rows.append(
            {
                "class": feature_class,
                "name": name,
                "geom": to_wkb(geometry),
                "properties": orjson.dumps(properties).decode(),
                "source": source,
            }
        )
    if rows:
        conn.execute(
            text(
                "INSERT INTO features (class, name, geom, properties, source) VALUES "
                "(:class, :name, ST_SetSRID(ST_GeomFromWKB(:geom), 4326), "
                "CAST(:properties AS jsonb), :source)"
            ),
            rows,
        )
    return len(rows)


FEATURE_COLUMNS = "id, class, name, properties, source, ST_AsGeoJSON(geom, 7) AS geometry"


def list_features(
    conn: Connection,
    *,
    bbox: tuple[float, float, float, float] | None,
    feature_class: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """A page of landmarks meeting the bbox (GiST) and of a class, and how many match."""
    where, params = bbox_filter("geom", bbox)
    if feature_class is not None:
        where.append("class = :class")
        params["class"] = feature_class
    return fetch_page(
        conn, FEATURE_COLUMNS, "features", where, params, order="id", limit=limit, offset=offset
    )


def get_feature(conn: Connection, feature_id: int) -> Any:
    """One landmark row, or NotFound."""
    row = conn.execute(
        text(f"SELECT {FEATURE_COLUMNS} FROM features WHERE id = :id"), {"id": feature_id}
    ).first()
    if row is None:
        raise NotFound(f"feature {feature_id} not found")
    return row


def flights_seeing(conn: Connection, feature_id: int) -> list[Any]:
    """Flights whose stored footprints meet a landmark: first and last t, and how many frames."""
    get_feature(conn, feature_id)
    return conn.execute(
        text(
            "SELECT p.flight_id, fl.name, min(p.t) AS first_t, max(p.t) AS last_t, "
            "count(*) AS frames FROM features f "
            "JOIN footprints p ON p.polygon && f.geom AND ST_Intersects(p.polygon, f.geom) "
            "JOIN flights fl ON fl.id = p.flight_id "
            "WHERE f.id = :id GROUP BY p.flight_id, fl.name ORDER BY p.flight_id"
        ),
        {"id": feature_id},
    ).all()


VISIBLE_SQL = (
    "WITH view AS (SELECT ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(:polygon), 4326)) AS g) "
    "SELECT f.id, f.class, f.name, "
    "CASE WHEN ST_Dimension(f.geom) = 2 THEN ST_Area(ST_Intersection(f.geom, view.g)) "
    "     / NULLIF(ST_Area(f.geom), 0) "
    "     WHEN ST_Dimension(f.geom) = 1 THEN ST_Length(ST_Intersection(f.geom, view.g)) "
    "     / NULLIF(ST_Length(f.geom), 0) ELSE 1.0 END AS fraction, "
    "ST_X(ST_PointOnSurface(ST_Intersection(f.geom, view.g))) AS lon, "
    "ST_Y(ST_PointOnSurface(ST_Intersection(f.geom, view.g))) AS lat "
    "FROM features f, view WHERE f.geom && view.g AND ST_Intersects(f.geom, view.g) "
    "{condition} ORDER BY f.id"
)


def features_in(conn: Connection, polygon_wkb: bytes, feature_class: str | None) -> list[Any]:
    """Landmarks meeting a polygon (GiST), with the fraction of each inside it and a
    representative point (the centroid of the part inside)."""
    condition = "AND f.class = :class" if feature_class else ""
    return conn.execute(
        text(VISIBLE_SQL.format(condition=condition)),
        {"polygon": polygon_wkb, "class": feature_class},
    ).all()


NEAR_SQL = (
    "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g) "
    "SELECT f.id, f.class, f.name, ST_X(c.p) AS lon, ST_Y(c.p) AS lat, "
    "ST_Distance(f.geom::geography, p.g::geography) AS distance, "
    "CASE WHEN ST_Dimension(f.geom) = 2 THEN sqrt(ST_Area(f.geom::geography)) "
    "     WHEN ST_Dimension(f.geom) = 1 THEN ST_Length(f.geom::geography) ELSE 0 END AS size_m, "
    "ST_AsBinary(f.geom) AS wkb "
    "FROM features f CROSS JOIN LATERAL (SELECT ST_PointOnSurface(f.geom) AS p) c, p "
    "WHERE f.geom && ST_Expand(p.g, :degrees) "
    "AND ST_DWithin(f.geom::geography, p.g::geography, :radius) {condition} "
    "ORDER BY distance, f.id LIMIT :limit"
)


def features_near(
    conn: Connection,
    lon: float,
    lat: float,
    radius_m: float,
    *,
    feature_class: str | None = None,
    limit: int = 200,
) -> list[Any]:
    """Landmarks within `radius_m` ground metres of a point, nearest first: the GiST index
    answers a box in degrees wide enough for the radius, the geodesic distance refines it.
    Each row has a representative point (lon, lat), its distance and its size in metres
    (square root of the area, or the length of a line)."""
    degrees = radius_m / (111_000.0 * max(0.05, math.cos(math.radians(lat))))
    condition = "AND f.class = :class" if feature_class else ""
    return conn.execute(
        text(NEAR_SQL.format(condition=condition)),
        {
            "lon": lon,
            "lat": lat,
            "radius": radius_m,
            "degrees": degrees,
            "class": feature_class,
            "limit": limit,
        },
    ).all()
