"""Imagery: the scene catalogue and a TiTiler-compatible COG API per scene and as a mosaic."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import orjson
import shapely.geometry
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rio_tiler.colormap import cmap
from rio_tiler.models import ImageData
from shapely.errors import ShapelyError

from app.api.deps import EngineDep, ReadEngineDep, SettingsDep
from app.api.params import (
    check_bbox,
    check_lonlat,
    feature_collection,
    parse_bbox,
    parse_datetime,
    parse_interval,
)
from app.api.responses import JSON, GeoJSON
from app.db import scenes as catalogue
from app.db.scenes import SceneRef
from app.errors import InvalidInput, NotFound, TooLarge
from app.raster.render import FORMATS, render_image
from app.raster.service import (
    Imagery,
    ReadOptions,
    cache_key,
    check_tile,
    mosaic_part,
    mosaic_tile,
    read_errors,
    tile_matrix_set,
)
from app.raster.sources import resolve_uri
from app.settings import Settings

router = APIRouter(tags=["imagery"])
KINDS = ("satellite", "aerial", "dem")
RESAMPLING = Literal[
    "nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "average", "mode", "gauss", "rms"
]
WARP = Literal[
    "nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "average", "mode", "sum", "rms"
]
_TAIL = re.compile(r"^(\d+)(?:@([1-4])x)?(?:\.([a-z]+))?$")
_SIZE = re.compile(r"^(\d+)x(\d+)\.([a-z]+)$")


async def get_imagery(request: Request) -> Imagery:
    """The app's imagery caches (async: no threadpool hop for a lookup)."""
    return request.app.state.imagery


ImageryDep = Annotated[Imagery, Depends(get_imagery)]


# ---------------------------------------------------------------- query parameters (TiTiler's)


async def read_options(
    bidx: Annotated[list[int] | None, Query(description="Band indexes (1-based)")] = None,
    expression: Annotated[str | None, Query(description="Band math, e.g. (b1-b2)/(b1+b2)")] = None,
    nodata: Annotated[str | None, Query(description="Override nodata: a number or nan")] = None,
    resampling: Annotated[RESAMPLING | None, Query(description="Resampling")] = None,
    reproject: Annotated[WARP | None, Query(description="Warp resampling")] = None,
) -> ReadOptions:
    """Band selection and reading options (async: parsing needs no thread)."""
    value = None
    if nodata is not None:
        try:
            value = float(nodata)
        except ValueError:
            raise InvalidInput(f"nodata must be a number or nan, not {nodata!r}") from None
    if bidx and any(index < 1 for index in bidx):
        raise InvalidInput("bidx: band indexes start at 1")
    return ReadOptions(tuple(bidx) if bidx else None, expression, value, resampling, reproject)


class RenderOptions:
    """Rescaling, colormap and mask options of an image reply."""

    def __init__(
        self,
        rescale: list[tuple[float, float]] | None,
        colormap: dict | None,
        add_mask: bool,
    ) -> None:
        self.rescale = rescale
        self.colormap = colormap
        self.add_mask = add_mask

    def key(self) -> tuple:
        """What of these options changes the output."""
        return (
            self.rescale,
            repr(sorted(self.colormap.items())) if self.colormap else None,
            self.add_mask,
        )


async def render_options(
    rescale: Annotated[list[str] | None, Query(description="min,max (per band)")] = None,
    colormap_name: Annotated[str | None, Query(description="A rio-tiler colormap")] = None,
    colormap: Annotated[str | None, Query(description="JSON {value: [r,g,b,a]}")] = None,
    return_mask: Annotated[bool, Query(description="Add the mask as alpha")] = True,
) -> RenderOptions:
    """TiTiler's rendering parameters (async: parsing needs no thread)."""
    pairs = [_pair(text) for text in rescale] if rescale else None
    return RenderOptions(pairs, _colormap(colormap_name, colormap), return_mask)


def _pair(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise InvalidInput(f"rescale must be min,max, not {text!r}") from None
    return low, high


def _colormap(name: str | None, custom: str | None) -> dict | None:
    if name is not None:
        try:
            return cmap.get(name.lower())
        except Exception:
            raise InvalidInput(f"unknown colormap_name {name!r}") from None
    if custom is not None:
        try:
            parsed = orjson.loads(custom)
            return {int(k): tuple(v) for k, v in parsed.items()}
        except (orjson.JSONDecodeError, AttributeError, ValueError, TypeError):
            raise InvalidInput("colormap must be a JSON object {value: [r, g, b, a]}") from None
    return None


def _crs(value: str | None, name: str) -> CRS | None:
    if value is None:
        return None
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise InvalidInput(f"{name}: unknown CRS {value!r}") from None


def _format(fmt: str | None) -> str | None:
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(f"unknown image format {fmt!r}; one of {', '.join(FORMATS)}")
    return fmt


ReadDep = Annotated[ReadOptions, Depends(read_options)]
RenderDep = Annotated[RenderOptions, Depends(render_options)]


# ---------------------------------------------------------------- replies


def image_reply(
    request: Request,
    imagery: Imagery,
    settings: Settings,
    scenes: list[SceneRef],
    make_image: Callable[[], ImageData],
    fmt: str | None,
    render: RenderOptions,
) -> Response:
    """Render (or reuse) an image, with a strong ETag and 304 for a matching If-None-Match."""
    versions = tuple((scene.id, scene.version) for scene in scenes)
    query = tuple(sorted(request.query_params.multi_items()))
    etag = cache_key(request.url.path, query, versions, render.key(), fmt)
    headers = {"ETag": f'"{etag}"', "Cache-Control": settings.cache_control}
    if request.headers.get("if-none-match") in (f'"{etag}"', etag, "*"):
        return Response(status_code=304, headers=headers)

    def make() -> tuple[bytes, str]:
        image = read_errors(make_image)
        content, media_type, _ = render_image(
            image, fmt, colormap=render.colormap, rescale=render.rescale, add_mask=render.add_mask
        )
        return content, media_type

    content, media_type = imagery.cached(tuple(s.id for s in scenes), etag, make)
    return Response(content, media_type=media_type, headers=headers)


def scene_feature(row: Any) -> dict[str, Any]:
    """A scene as a GeoJSON Feature (footprint + facts)."""
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": orjson.loads(row.footprint_geojson),
        "bbox": [row.xmin, row.ymin, row.xmax, row.ymax],
        "properties": {
            "id": row.id,
            "name": row.name,
            "kind": row.kind,
            "uri": row.uri,
            "acquired_at": row.acquired_at,
            "crs": row.crs,
            "resolution_m": round(row.resolution_m, 4),
            "width": row.width,
            "height": row.height,
            "band_count": row.band_count,
            "dtype": row.dtype,
            "nodata": row.nodata,
            "is_cog": row.is_cog,
            "converted_to_cog": row.converted,
            "version": row.version,
            "created_at": row.created_at,
        },
    }


# ---------------------------------------------------------------- catalogue


async def _read_upload(request: Request, settings: Settings) -> tuple[Path, dict[str, str]]:
    form = await request.form(max_part_size=settings.max_upload_mb * 1024 * 1024)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInput("file: a multipart upload needs a `file` part")
    limit = settings.max_upload_mb * 1024 * 1024
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    target = settings.upload_dir / f"{uuid.uuid4().hex}.tif"
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise TooLarge(f"upload is over the limit of {settings.max_upload_mb} MB")
            out.write(chunk)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    fields.setdefault("name", upload.filename or "upload")
    return target, fields


@router.post("/scenes", status_code=201, summary="Register imagery (JSON) or upload a GeoTIFF")
async def create_scene(request: Request, engine: EngineDep, settings: SettingsDep) -> JSON:
    """JSON `{name, uri, kind, acquired_at?}`, or multipart `file` + `name`, `kind`, ..."""
    content_type = request.headers.get("content-type", "")
    managed = None
    if content_type.startswith("multipart/form-data"):
        managed, fields = await _read_upload(request, settings)
    else:
        try:
            fields = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body: invalid JSON ({exc.msg})") from None
        if not isinstance(fields, dict):
            raise InvalidInput("body must be a JSON object")
    try:
        kind = fields.get("kind", "satellite")
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        name = fields.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name: required")
        acquired = fields.get("acquired_at")
        acquired_at = parse_datetime(acquired, "acquired_at") if acquired else None
        if managed is None:
            uri = fields.get("uri")
            if not isinstance(uri, str):
                raise InvalidInput("uri: required (a path in the data folders, a URL or s3://)")
            path = resolve_uri(
                uri,
                data_dirs=settings.data_dirs,
                allowed_hosts=settings.allowed_hosts,
                allowed_buckets=settings.allowed_buckets,
            )
        else:
            path = str(managed)
    except BaseException:
        if managed:
            managed.unlink(missing_ok=True)
        raise
    scene_id = await run_in_threadpool(
        catalogue.register_raster,
        engine,
        settings.upload_dir,
        name=name,
        path=path,
        kind=kind,
        acquired_at=acquired_at,
        managed=managed,
    )
    with engine.connect() as conn:
        row = catalogue.get_scene(conn, scene_id)
    reply = scene_feature(row)
    location = str(request.url_for("get_scene", scene_id=scene_id))
    return JSON(reply, status_code=201, headers={"Location": location})


@router.get("/scenes", summary="Scenes (OGC API – Features items)")
def list_scenes(
    request: Request,
    engine: ReadEngineDep,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (WGS84)")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    kind: Annotated[Literal["satellite", "aerial", "dem"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> GeoJSON:
    """Scene footprints matching the filters."""
    with engine.connect() as conn:
        rows, matched = catalogue.list_scenes(
            conn,
            bbox=parse_bbox(bbox),
            interval=parse_interval(datetime_),
            kind=kind,
            limit=limit,
            offset=offset,
        )
    features = [scene_feature(row) for row in rows]
    return GeoJSON(
        feature_collection(request, features, offset=offset, limit=limit, matched=matched)
    )


@router.get("/scenes/{scene_id}", summary="One scene as a GeoJSON Feature")
def get_scene(scene_id: int, engine: ReadEngineDep) -> GeoJSON:
    """The scene's footprint and facts."""
    with engine.connect() as conn:
        return GeoJSON(scene_feature(catalogue.get_scene(conn, scene_id)))


@router.delete("/scenes/{scene_id}", status_code=204, summary="Delete a scene")
def delete_scene(scene_id: int, engine: EngineDep, imagery: ImageryDep) -> Response:
    """Remove the scene, its cached tiles and readers, and any file skyspace made for it."""
    with engine.begin() as conn:
        row = catalogue.delete_scene(conn, scene_id)
    imagery.forget(scene_id)
    managed = (row.properties or {}).get("managed_file")
    if managed:
        Path(managed).unlink(missing_ok=True)
    return Response(status_code=204)


# ---------------------------------------------------------------- per-scene imagery


def _scene(engine: Any, scene_id: int) -> SceneRef:
    with engine.connect() as conn:
        return catalogue.scene_ref(conn, scene_id)


def _parse_tail(tail: str) -> tuple[int, int, str | None]:
    match = _TAIL.match(tail)
    if not match:
        raise NotFound(f"not a tile path: {tail!r} (expected y[@Nx][.format])")
    return int(match.group(1)), int(match.group(2) or 1), _format(match.group(3))


TileSize = Annotated[int | None, Query(gt=0, le=2048, description="Tile size in pixels")]
Buffer = Annotated[float | None, Query(ge=0, le=256, description="Pixels added on each side")]


@router.get("/scenes/{scene_id}/tiles/{tms}/{z}/{x}/{tail}", summary="A map tile of a scene")
@router.get("/scenes/{scene_id}/tiles/{z}/{x}/{tail}", summary="A WebMercatorQuad tile")
def scene_tile(
    request: Request,
    scene_id: int,
    z: int,
    x: int,
    tail: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    tms: str = "WebMercatorQuad",
    tilesize: TileSize = None,
    buffer: Buffer = None,
) -> Response:
    """`{y}[@{scale}x][.{format}]` in any morecantile tile matrix set (default WebMercatorQuad)."""
    y, scale, fmt = _parse_tail(tail)
    matrix_set = tile_matrix_set(tms)
    check_tile(matrix_set, z, x, y)
    scene = _scene(engine, scene_id)
    size = tilesize or 256 * scale

    def make() -> ImageData:
        reader = imagery.reader(scene, matrix_set)
        if not reader.tile_exists(x, y, z):
            raise NotFound(f"tile {z}/{x}/{y} is outside the scene", code="tile_outside_bounds")
        return reader.tile(x, y, z, tilesize=size, buffer=buffer, **options.as_kwargs())

    return image_reply(request, imagery, settings, [scene], make, fmt, render)


def _template_query(request: Request, drop: tuple[str, ...] = ("tile_format", "tile_scale")) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in drop]
    return ("?" + "&".join(f"{k}={v}" for k, v in items)) if items else ""


def _tilejson(
    name: str, url: str, minzoom: int, maxzoom: int, bounds: tuple[float, float, float, float]
) -> dict[str, Any]:
    """A TileJSON 3.0.0 document for one tile URL template."""
    west, south, east, north = bounds
    return {
        "tilejson": "3.0.0",
        "name": name,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, minzoom],
    }


@router.get("/scenes/{scene_id}/{tms}/tilejson.json", summary="TileJSON of a scene")
def scene_tilejson(
    request: Request,
    scene_id: int,
    tms: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    tile_format: Annotated[str | None, Query()] = None,
    tile_scale: Annotated[int, Query(ge=1, le=4)] = 1,
    minzoom: Annotated[int | None, Query()] = None,
    maxzoom: Annotated[int | None, Query()] = None,
) -> JSON:
    """TileJSON 3.0.0 whose tile URL carries the same query parameters."""
    matrix_set = tile_matrix_set(tms)
    scene = _scene(engine, scene_id)
    reader = imagery.reader(scene, matrix_set)
    suffix = (f"@{tile_scale}x" if tile_scale > 1 else "") + (
        f".{_format(tile_format)}" if tile_format else ""
    )
    base = str(request.base_url).rstrip("/")
    west, south, east, north = reader.get_geographic_bounds(CRS.from_epsg(4326))
    low = reader.minzoom if minzoom is None else minzoom
    high = reader.maxzoom if maxzoom is None else maxzoom
    url = f"{base}/scenes/{scene_id}/tiles/{tms}/{{z}}/{{x}}/{{y}}{suffix}" + _template_query(
        request, ("tile_format", "tile_scale", "minzoom", "maxzoom")
    )
    return JSON(_tilejson(f"scene {scene_id}", url, low, high, (west, south, east, north)))


@router.get("/scenes/{scene_id}/{tms}/WMTSCapabilities.xml", summary="OGC WMTS capabilities")
def scene_wmts(
    request: Request,
    scene_id: int,
    tms: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    tile_format: Annotated[Literal["png", "jpeg", "webp"], Query()] = "png",
) -> Response:
    """A WMTS 1.0.0 capabilities document with one layer in the scene's zoom range."""
    from app.raster.wmts import capabilities

    matrix_set = tile_matrix_set(tms)
    scene = _scene(engine, scene_id)
    reader = imagery.reader(scene, matrix_set)
    base = str(request.base_url).rstrip("/")
    template = (
        f"{base}/scenes/{scene_id}/tiles/{tms}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.{tile_format}"
        + _template_query(request, ("tile_format",))
    )
    document = capabilities(
        title=f"scene {scene_id}",
        layer=f"scene-{scene_id}",
        tms=matrix_set,
        bounds=reader.get_geographic_bounds(CRS.from_epsg(4326)),
        minzoom=reader.minzoom,
        maxzoom=reader.maxzoom,
        template=template.replace("&", "&amp;"),
        media_type=f"image/{tile_format}",
    )
    return Response(document, media_type="application/xml")


@router.get("/scenes/{scene_id}/info", summary="Dataset metadata (rio-tiler Info)")
def scene_info(scene_id: int, engine: ReadEngineDep, imagery: ImageryDep) -> JSON:
    """Bounds, CRS, bands, dtype, nodata, overviews, as TiTiler's /info."""
    scene = _scene(engine, scene_id)
    info = imagery.reader(scene, tile_matrix_set("WebMercatorQuad")).info()
    return JSON(info.model_dump(mode="json", exclude_none=True))


@router.get("/scenes/{scene_id}/statistics", summary="Band statistics")
def scene_statistics(
    scene_id: int,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    options: ReadDep,
    max_size: Annotated[int, Query(ge=1, le=4096)] = 1024,
    categorical: bool = False,
    p: Annotated[list[int] | None, Query(description="Percentiles")] = None,
) -> JSON:
    """Per-band min, max, mean, std, percentiles and histogram (from a decimated read)."""
    scene = _scene(engine, scene_id)
    reader = imagery.reader(scene, tile_matrix_set("WebMercatorQuad"))
    stats = read_errors(
        lambda: reader.statistics(
            categorical=categorical, percentiles=p, max_size=max_size, **options.as_kwargs()
        )
    )
    return JSON({band: value.model_dump(mode="json") for band, value in stats.items()})


@router.get("/scenes/{scene_id}/point/{lon},{lat}", summary="Pixel values at a point")
def scene_point(
    scene_id: int,
    lon: float,
    lat: float,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    options: ReadDep,
    coord_crs: Annotated[str | None, Query()] = None,
) -> JSON:
    """Values of every band at lon,lat (404 outside the scene)."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("lon and lat must be finite numbers")
    if coord_crs is None:
        check_lonlat(lon, lat)
    scene = _scene(engine, scene_id)
    reader = imagery.reader(scene, tile_matrix_set("WebMercatorQuad"))
    crs = _crs(coord_crs, "coord_crs") or CRS.from_epsg(4326)
    point = read_errors(lambda: reader.point(lon, lat, coord_crs=crs, **options.as_kwargs()))
    masked = np.broadcast_to(
        np.asarray(point.mask) == 0, point.data.shape
    )  # one mask or one per band
    values = [
        None if hole else value
        for value, hole in zip(point.data.tolist(), masked.tolist(), strict=True)
    ]
    return JSON({"coordinates": [lon, lat], "values": values, "band_names": point.band_names})


MaxSize = Annotated[int, Query(ge=1, le=4096)]
Side = Annotated[int | None, Query(ge=1, le=4096)]


@router.get("/scenes/{scene_id}/preview", summary="A decimated view of the whole scene")
@router.get("/scenes/{scene_id}/preview.{fmt}", summary="A preview in a given format")
def scene_preview(
    request: Request,
    scene_id: int,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    fmt: str | None = None,
    max_size: MaxSize = 1024,
    width: Side = None,
    height: Side = None,
) -> Response:
    """The whole scene at most max_size pixels on its longer side (as `fmt` when given)."""
    scene = _scene(engine, scene_id)

    def make() -> ImageData:
        reader = imagery.reader(scene, tile_matrix_set("WebMercatorQuad"))
        return reader.preview(max_size=max_size, width=width, height=height, **options.as_kwargs())

    return image_reply(request, imagery, settings, [scene], make, _format(fmt), render)


def _size_tail(tail: str) -> tuple[int, int, str]:
    match = _SIZE.match(tail)
    if not match:
        raise NotFound(f"not a size and format: {tail!r} (expected {{w}}x{{h}}.{{format}})")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= 4096 and 1 <= height <= 4096):
        raise TooLarge("width and height must be between 1 and 4096 pixels")
    return width, height, _format(match.group(3))  # type: ignore[return-value]


def _part_reply(
    request: Request,
    scene_id: int,
    bbox: tuple,
    fmt: str,
    size: tuple[int, int] | None,
    engine: Any,
    imagery: Imagery,
    settings: Settings,
    options: ReadOptions,
    render: RenderOptions,
    coord_crs: str | None,
    dst_crs: str | None,
    max_size: int | None,
) -> Response:
    scene = _scene(engine, scene_id)
    bounds_crs = _crs(coord_crs, "coord_crs") or CRS.from_epsg(4326)
    target_crs = _crs(dst_crs, "dst_crs")
    width, height = size or (None, None)

    def make() -> ImageData:
        reader = imagery.reader(scene, tile_matrix_set("WebMercatorQuad"))
        return reader.part(
            bbox,
            dst_crs=target_crs,
            bounds_crs=bounds_crs,
            width=width,
            height=height,
            max_size=None if size else max_size,
            **options.as_kwargs(),
        )

    return image_reply(request, imagery, settings, [scene], make, fmt, render)


@router.get("/scenes/{scene_id}/bbox/{minx},{miny},{maxx},{maxy}.{fmt}", summary="A bbox crop")
def scene_bbox(
    request: Request,
    scene_id: int,
    minx: float,
    miny: float,
    maxx: float,
    maxy: float,
    fmt: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    coord_crs: str | None = None,
    dst_crs: str | None = None,
    max_size: MaxSize = 1024,
) -> Response:
    """The part of the scene inside a bbox (in coord_crs, default WGS84)."""
    return _part_reply(
        request,
        scene_id,
        check_bbox(minx, miny, maxx, maxy, flat=False, wgs84=coord_crs is None),
        _format(fmt),
        None,
        engine,
        imagery,
        settings,
        options,
        render,
        coord_crs,
        dst_crs,
        max_size,
    )


@router.get("/scenes/{scene_id}/bbox/{minx},{miny},{maxx},{maxy}/{tail}", summary="Sized crop")
def scene_bbox_sized(
    request: Request,
    scene_id: int,
    minx: float,
    miny: float,
    maxx: float,
    maxy: float,
    tail: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    coord_crs: str | None = None,
    dst_crs: str | None = None,
) -> Response:
    """`{w}x{h}.{format}`: the bbox crop resampled to exactly w×h pixels."""
    width, height, fmt = _size_tail(tail)
    return _part_reply(
        request,
        scene_id,
        check_bbox(minx, miny, maxx, maxy, flat=False, wgs84=coord_crs is None),
        fmt,
        (width, height),
        engine,
        imagery,
        settings,
        options,
        render,
        coord_crs,
        dst_crs,
        None,
    )


def _feature_shape(body: Any) -> dict:
    geometry = (
        body.get("geometry") if isinstance(body, dict) and body.get("type") == "Feature" else body
    )
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("body must be a GeoJSON Polygon or MultiPolygon (or a Feature of one)")
    try:
        polygon = shapely.geometry.shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidInput(f"body: invalid polygon ({exc})") from None
    if polygon.is_empty:
        raise InvalidInput("body: empty polygon")
    minx, miny, maxx, maxy = polygon.bounds
    check_lonlat(minx, miny)
    check_lonlat(maxx, maxy)
    return geometry


@router.post("/scenes/{scene_id}/feature", summary="Crop to a GeoJSON polygon")
@router.post("/scenes/{scene_id}/feature.{fmt}", summary="Crop to a polygon, as `fmt`")
async def scene_feature_crop(
    request: Request,
    scene_id: int,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    fmt: str | None = None,
    max_size: MaxSize = 1024,
    dst_crs: str | None = None,
) -> Response:
    """Pixels outside the polygon are masked."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body: invalid JSON ({exc.msg})") from None
    shape = _feature_shape(body)
    target_crs = _crs(dst_crs, "dst_crs")

    def reply() -> Response:
        scene = _scene(engine, scene_id)

        def make() -> ImageData:
            reader = imagery.reader(scene, tile_matrix_set("WebMercatorQuad"))
            return reader.feature(
                shape, dst_crs=target_crs, max_size=max_size, **options.as_kwargs()
            )

        return image_reply(request, imagery, settings, [scene], make, _format(fmt), render)

    return await run_in_threadpool(reply)


# ---------------------------------------------------------------- mosaic across scenes


def _mosaic_filters(kind: str | None, datetime_: str | None) -> tuple:
    return kind, parse_interval(datetime_)


@router.get("/mosaic/tiles/{tms}/{z}/{x}/{tail}", summary="A tile painted from every scene")
def mosaic_tile_endpoint(
    request: Request,
    tms: str,
    z: int,
    x: int,
    tail: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    kind: Annotated[Literal["satellite", "aerial", "dem"] | None, Query()] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    tilesize: TileSize = None,
    buffer: Buffer = None,
) -> Response:
    """Scenes meeting the tile (one PostGIS query), newest on top; 404 where none has data."""
    y, scale, fmt = _parse_tail(tail)
    matrix_set = tile_matrix_set(tms)
    check_tile(matrix_set, z, x, y)
    bbox = tuple(matrix_set.bounds(x, y, z))  # geographic bounds of the tile
    kind_filter, interval = _mosaic_filters(kind, datetime_)
    with engine.connect() as conn:
        scenes = catalogue.mosaic_scenes(conn, bbox, kind=kind_filter, interval=interval)
    if not scenes:
        raise NotFound("no scene meets this tile", code="empty_mosaic")
    size = tilesize or 256 * scale

    def make() -> ImageData:
        return mosaic_tile(
            imagery, scenes, matrix_set, z, x, y, tilesize=size, buffer=buffer, options=options
        )

    return image_reply(request, imagery, settings, scenes, make, fmt, render)


@router.get("/mosaic/{tms}/tilejson.json", summary="TileJSON of the mosaic")
def mosaic_tilejson(
    request: Request,
    tms: str,
    engine: ReadEngineDep,
    kind: Annotated[Literal["satellite", "aerial", "dem"] | None, Query()] = None,
    tile_format: Annotated[str | None, Query()] = None,
    minzoom: Annotated[int, Query(ge=0, le=30)] = 0,
    maxzoom: Annotated[int, Query(ge=0, le=30)] = 22,
) -> JSON:
    """TileJSON over the extent of every scene (of a kind)."""
    tile_matrix_set(tms)
    with engine.connect() as conn:
        bounds = catalogue.mosaic_bounds(conn, kind)
    west, south, east, north = bounds or (-180.0, -85.05, 180.0, 85.05)
    suffix = f".{_format(tile_format)}" if tile_format else ""
    base = str(request.base_url).rstrip("/")
    url = f"{base}/mosaic/tiles/{tms}/{{z}}/{{x}}/{{y}}{suffix}" + _template_query(
        request, ("tile_format", "minzoom", "maxzoom")
    )
    return JSON(_tilejson("mosaic", url, minzoom, maxzoom, (west, south, east, north)))


@router.get("/mosaic/bbox/{minx},{miny},{maxx},{maxy}/{tail}", summary="A crop across scenes")
def mosaic_bbox(
    request: Request,
    minx: float,
    miny: float,
    maxx: float,
    maxy: float,
    tail: str,
    engine: ReadEngineDep,
    imagery: ImageryDep,
    settings: SettingsDep,
    options: ReadDep,
    render: RenderDep,
    kind: Annotated[Literal["satellite", "aerial", "dem"] | None, Query()] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    dst_crs: str | None = None,
) -> Response:
    """`{w}x{h}.{format}`: the bbox (WGS84) painted from every scene, newest on top."""
    width, height, fmt = _size_tail(tail)
    bbox = check_bbox(minx, miny, maxx, maxy, flat=False)
    target_crs = _crs(dst_crs, "dst_crs")
    kind_filter, interval = _mosaic_filters(kind, datetime_)
    with engine.connect() as conn:
        scenes = catalogue.mosaic_scenes(conn, bbox, kind=kind_filter, interval=interval)
    if not scenes:
        raise NotFound("no scene meets this bbox", code="empty_mosaic")

    def make() -> ImageData:
        return mosaic_part(
            imagery,
            scenes,
            bbox,
            dst_crs=target_crs,
            width=width,
            height=height,
            **options.as_kwargs(),
        )

    return image_reply(request, imagery, settings, scenes, make, fmt, render)
