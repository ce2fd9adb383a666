"""Landmarks: import GeoJSON or OpenStreetMap extracts, list them (OGC API – Features)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from app.api.deps import EngineDep, ReadEngineDep, SettingsDep
from app.api.params import feature_collection, parse_bbox
from app.api.responses import JSON, GeoJSON
from app.db.features import flights_seeing, get_feature, insert_features, list_features
from app.errors import InvalidInput, TooLarge
from app.ingest.landmarks import parse_geojson_landmarks, parse_osm_landmarks

router = APIRouter(tags=["landmarks"])


def feature_json(row: Any) -> dict[str, Any]:
    """A landmark as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": orjson.loads(row.geometry),
        "properties": {
            "class": row[1],
            "name": row.name,
            "source": row.source,
            **(row.properties or {}),
        },
    }


@router.post("/features", status_code=201, summary="Import landmarks (GeoJSON or OSM extract)")
async def create_features(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    class_: Annotated[
        str,
        Query(
            alias="class",
            description="Class of GeoJSON features that name none",
            min_length=1,
            max_length=64,
        ),
    ] = "feature",
) -> JSON:
    """A GeoJSON FeatureCollection body, or a multipart `file` (.geojson, .osm, .osm.bz2,
    .osm.pbf); all or nothing, the bad feature named on failure."""
    limit = settings.max_upload_mb * 1024 * 1024
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_part_size=limit)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("file: a multipart upload needs a `file` part")
        data, name = await upload.read(), upload.filename or "upload"
    else:
        data, name = await request.body(), "body.geojson"
    if len(data) > limit:
        raise TooLarge(f"upload is over the limit of {settings.max_upload_mb} MB")
    if not data:
        raise InvalidInput("empty body")

    def store() -> int:
        is_json = name.lower().endswith((".geojson", ".json")) or data.lstrip()[:1] == b"{"
        landmarks = (
            parse_geojson_landmarks(data, class_) if is_json else parse_osm_landmarks(data, name)
        )
        with engine.begin() as conn:
            return insert_features(conn, landmarks, source=name)

    count = await run_in_threadpool(store)
    return JSON({"imported": count, "source": name}, status_code=201)


@router.get("/features", summary="Landmarks (OGC API – Features items)")
def features(
    request: Request,
    engine: ReadEngineDep,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (WGS84)")] = None,
    class_: Annotated[str | None, Query(alias="class")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> GeoJSON:
    """Landmarks meeting the bbox, of a class."""
    with engine.connect() as conn:
        rows, matched = list_features(
            conn, bbox=parse_bbox(bbox), feature_class=class_, limit=limit, offset=offset
        )
    return GeoJSON(
        feature_collection(
            request, [feature_json(r) for r in rows], offset=offset, limit=limit, matched=matched
        )
    )


@router.get("/features/{feature_id}", summary="One landmark")
def feature(feature_id: int, engine: ReadEngineDep) -> GeoJSON:
    """The landmark as a GeoJSON Feature."""
    with engine.connect() as conn:
        return GeoJSON(feature_json(get_feature(conn, feature_id)))


@router.get("/features/{feature_id}/flights", summary="Which flights saw a landmark, and when")
def feature_flights(feature_id: int, engine: ReadEngineDep) -> JSON:
    """From the stored footprints (GiST): per flight, the first and last instant it was in view."""
    with engine.connect() as conn:
        rows = flights_seeing(conn, feature_id)
    return JSON(
        {
            "feature_id": feature_id,
            "flights": [
                {
                    "flight_id": r.flight_id,
                    "name": r.name,
                    "first_t": r.first_t,
                    "last_t": r.last_t,
                    "frames": r.frames,
                }
                for r in rows
            ],
        }
    )
