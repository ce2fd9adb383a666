"""Vector tiles (MVT) of flight paths for map front ends, and their TileJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api.deps import AsyncPoolDep
from app.api.params import parse_ids, parse_interval
from app.api.responses import JSON
from app.db import mvt
from app.errors import NotFound

router = APIRouter(tags=["vector tiles"])
MVT_TYPE = "application/vnd.mapbox-vector-tile"

LAYER_FIELDS = {
    "flights": {"id": "Number", "name": "String", "start_time": "String"},
    "footprints": {"flight_id": "Number", "t": "Number", "partial": "Boolean", "gsd_m": "Number"},
    "features": {"id": "Number", "class": "String", "name": "String"},
}


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
    summary="Flight paths or camera footprints as a Mapbox Vector Tile",
    responses={200: {"content": {MVT_TYPE: {}}}, 204: {"description": "Empty tile"}},
)
async def vector_tile(
    layer: str,
    z: int,
    x: int,
    y: int,
    pool: AsyncPoolDep,
    flights: Annotated[str | None, Query(description="Comma-separated flight ids")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
) -> Response:
    """Layer `flights` (id, name, start_time), `footprints` (flight_id, t, partial, gsd_m) or
    `features` (id, class, name); `flights` and `datetime` filter the first two. 204: empty."""
    if layer not in LAYER_FIELDS:
        raise NotFound(f"no vector-tile layer {layer!r}; layers: {', '.join(LAYER_FIELDS)}")
    start, end = parse_interval(datetime_) or (None, None)
    tile_filter = mvt.TileFilter(ids=parse_ids(flights, "flights"), start=start, end=end)
    data = await mvt.layer_tile_async(pool, layer, z, x, y, tile_filter)
    if not data:
        return Response(status_code=204)
    return Response(data, media_type=MVT_TYPE)


@router.get("/tiles/{layer}/tilejson.json", summary="TileJSON of a vector-tile layer")
def tilejson(layer: str, request: Request) -> JSON:
    """TileJSON 3.0.0 describing the layer's tile URL and fields."""
    if layer not in LAYER_FIELDS:
        raise NotFound(f"no vector-tile layer {layer!r}; layers: {', '.join(LAYER_FIELDS)}")
    base = str(request.base_url).rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    return JSON(
        {
            "tilejson": "3.0.0",
            "name": layer,
            "tiles": [f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt{query}"],
            "minzoom": 0,
            "maxzoom": 22,
            "bounds": [-180.0, -85.0511287798066, 180.0, 85.0511287798066],
            "vector_layers": [{"id": layer, "fields": LAYER_FIELDS[layer]}],
        }
    )
