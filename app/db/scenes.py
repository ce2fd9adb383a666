"""Scenes (registered rasters) in PostGIS: insert, list, read, delete, and mosaic look-ups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from shapely import to_wkb
from sqlalchemy import Connection, Engine, text

from app.db import bbox_filter, fetch_page, interval_filter
from app.errors import NotFound
from app.raster.inspect import RasterFacts, convert_to_cog, describe

SCENE_COLUMNS = """
    s.id, s.name, s.uri, s.kind, s.acquired_at, s.crs, s.resolution_m, s.width, s.height,
    s.band_count, s.dtype, s.nodata, s.is_cog, s.converted, s.version, s.properties,
    s.created_at, ST_AsGeoJSON(s.footprint, 7) AS footprint_geojson,
    ST_XMin(s.footprint) AS xmin, ST_YMin(s.footprint) AS ymin,
    ST_XMax(s.footprint) AS xmax, ST_YMax(s.footprint) AS ymax
"""


@dataclass(frozen=True)
class SceneRef:
    """What the tile path needs of a scene: where it is and which version."""

    id: int
    path: str
    version: int
    bounds: tuple[float, float, float, float]


def insert_scene(
    conn: Connection,
    *,
    name: str,
    uri: str,
    kind: str,
    acquired_at: datetime | None,
    facts: RasterFacts,
    converted: bool,
    properties: dict[str, Any],
) -> int:
    """Store a scene row; returns its id."""
    return int(
        conn.execute(
            text(
                """
                INSERT INTO scenes (name, uri, kind, acquired_at, footprint, crs, resolution_m,
                    width, height, band_count, dtype, nodata, is_cog, converted, properties)
                VALUES (:name, :uri, :kind, :acquired_at,
                    ST_SetSRID(ST_GeomFromWKB(:footprint), 4326), :crs, :resolution_m, :width,
                    :height, :band_count, :dtype, :nodata, :is_cog, :converted,
                    CAST(:properties AS jsonb))
                RETURNING id
                """
            ),
            {
                "name": name,
                "uri": uri,
                "kind": kind,
                "acquired_at": acquired_at,
                "footprint": to_wkb(facts.footprint),
                "crs": facts.crs,
                "resolution_m": facts.resolution_m,
                "width": facts.width,
                "height": facts.height,
                "band_count": facts.band_count,
                "dtype": facts.dtype,
                "nodata": facts.nodata,
                "is_cog": facts.is_cog,
                "converted": converted,
                "properties": orjson.dumps(properties).decode(),
            },
        ).scalar_one()
    )


def get_scene(conn: Connection, scene_id: int) -> Any:
    """One scene row, or NotFound."""
    row = conn.execute(
        text(f"SELECT {SCENE_COLUMNS} FROM scenes s WHERE s.id = :id"), {"id": scene_id}
    ).first()
    if row is None:
        raise NotFound(f"scene {scene_id} not found")
    return row


def scene_ref(conn: Connection, scene_id: int) -> SceneRef:
    """The tile path's view of a scene (one indexed look-up), or NotFound."""
    row = conn.execute(
        text(
            "SELECT id, uri, version, ST_XMin(footprint), ST_YMin(footprint), "
            "ST_XMax(footprint), ST_YMax(footprint) FROM scenes WHERE id = :id"
        ),
        {"id": scene_id},
    ).first()
    if row is None:
        raise NotFound(f"scene {scene_id} not found")
    return SceneRef(row[0], row[1], row[2], (row[3], row[4], row[5], row[6]))


def delete_scene(conn: Connection, scene_id: int) -> Any:
    """Delete a scene row and return it, or NotFound."""
    row = conn.execute(
        text("DELETE FROM scenes WHERE id = :id RETURNING id, uri, properties"), {"id": scene_id}
    ).first()
    if row is None:
        raise NotFound(f"scene {scene_id} not found")
    return row


def _filters(
    bbox: tuple[float, float, float, float] | None,
    interval: tuple[datetime | None, datetime | None] | None,
    kind: str | tuple[str, ...] | None,
) -> tuple[str, dict[str, Any]]:
    where, params = bbox_filter("s.footprint", bbox)
    if kind is not None:  # one kind, or any of several
        where.append("s.kind = ANY(:kinds)")
        params["kinds"] = [kind] if isinstance(kind, str) else list(kind)
    conditions, values = interval_filter("s.acquired_at", "s.acquired_at", interval)
    where += conditions
    params.update(values)
    return " AND ".join(where) or "TRUE", params


def list_scenes(
    conn: Connection,
    *,
    bbox: tuple[float, float, float, float] | None,
    interval: tuple[datetime | None, datetime | None] | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """A page of scenes and the number matching."""
    condition, params = _filters(bbox, interval, kind)
    return fetch_page(
        conn,
        SCENE_COLUMNS,
        "scenes s",
        [condition],
        params,
        order="s.id",
        limit=limit,
        offset=offset,
    )


def mosaic_scenes(
    conn: Connection,
    bbox: tuple[float, float, float, float],
    *,
    kind: str | tuple[str, ...] | None,
    interval: tuple[datetime | None, datetime | None] | None,
) -> list[SceneRef]:
    """Scenes whose footprint meets the bbox, newest first (one GiST-indexed query)."""
    condition, params = _filters(bbox, interval, kind)
    rows = conn.execute(
        text(
            "SELECT s.id, s.uri, s.version, ST_XMin(s.footprint), ST_YMin(s.footprint), "
            "ST_XMax(s.footprint), ST_YMax(s.footprint) FROM scenes s "
            f"WHERE {condition} ORDER BY s.acquired_at DESC NULLS LAST, s.id DESC"
        ),
        params,
    ).all()
    return [SceneRef(r[0], r[1], r[2], (r[3], r[4], r[5], r[6])) for r in rows]


def mosaic_bounds(conn: Connection, kind: str | None) -> tuple[float, float, float, float] | None:
    """The extent of all scenes (of a kind), or None when there are none."""
    condition, params = _filters(None, None, kind)
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(s.footprint) AS e FROM scenes s WHERE {condition}) q"
        ),
        params,
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def register_raster(
    engine: Engine,
    upload_dir: Path,
    *,
    name: str,
    path: str,
    kind: str,
    acquired_at: datetime | None,
    managed: Path | None,
) -> int:
    """Inspect a raster, convert it to a COG when needed, store the scene; returns its id.

    Files skyspace made (an upload, a conversion) are removed when anything fails.
    """
    made: list[Path] = [managed] if managed else []
    try:
        facts = describe(path)
        converted = False
        if not facts.is_cog:
            target = upload_dir / f"{uuid.uuid4().hex}.cog.tif"
            convert_to_cog(path, target)
            made.append(target)
            if managed:
                managed.unlink(missing_ok=True)
                made.remove(managed)
            path, converted = str(target), True
            facts = describe(path)
        with engine.begin() as conn:
            return insert_scene(
                conn,
                name=name,
                uri=path,
                kind=kind,
                acquired_at=acquired_at,
                facts=facts,
                converted=converted,
                properties={"managed_file": str(made[-1])} if made else {},
            )
    except BaseException:
        for file in made:
            file.unlink(missing_ok=True)
        raise
