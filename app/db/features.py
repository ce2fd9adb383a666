"""Landmarks (features) in PostGIS: bulk insert and simple reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from shapely import to_wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text


def insert_features(
    conn: Connection,
    features: Iterable[tuple[str, str | None, BaseGeometry, dict[str, Any]]],
    source: str,
) -> int:
    """Insert (class, name, geometry in WGS84, properties) rows; returns how many."""
    rows = [
        {
            "class": feature_class,
            "name": name,
            "geom": to_wkb(geometry),
            "properties": orjson.dumps(properties).decode(),
            "source": source,
        }
        for feature_class, name, geometry, properties in features
    ]
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


def count_features(conn: Connection, source: str) -> int:
    """How many features came from a source."""
    return int(
        conn.execute(
            text("SELECT count(*) FROM features WHERE source = :s"), {"s": source}
        ).scalar_one()
    )
