"""What a raster is: footprint, CRS, resolution in metres, size, bands; and making COGs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Geod
from rasterio.errors import RasterioError
from rasterio.warp import transform
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles
from shapely.geometry import Polygon

from app.errors import InvalidInput

GEOD = Geod(ellps="WGS84")
EDGE_POINTS = 16  # per side of the footprint, so curved edges in WGS84 stay faithful


@dataclass(frozen=True)
class RasterFacts:
    """What the scene row stores about a raster."""

    footprint: Polygon
    crs: str
    resolution_m: float
    width: int
    height: int
    band_count: int
    dtype: str
    nodata: float | None
    is_cog: bool


def _footprint(dataset) -> Polygon:
    left, bottom, right, top = dataset.bounds
    t = np.linspace(0.0, 1.0, EDGE_POINTS, endpoint=False)
    xs = np.concatenate(
        [
            left + (right - left) * t,
            np.full_like(t, right),
            right - (right - left) * t,
            np.full_like(t, left),
        ]
    )
    ys = np.concatenate(
        [
            np.full_like(t, top),
            top - (top - bottom) * t,
            np.full_like(t, bottom),
            bottom + (top - bottom) * t,
        ]
    )
    lons, lats = transform(dataset.crs, "EPSG:4326", xs.tolist(), ys.tolist())
    polygon = Polygon(zip(lons, lats, strict=True))
    return polygon if polygon.is_valid else polygon.buffer(0)


def _ground_resolution(dataset) -> float:
    """Metres on the ground of one pixel step at the centre (geodesic, any CRS)."""
    col, row = dataset.width / 2.0, dataset.height / 2.0
    points = [
        dataset.transform @ (col, row),
        dataset.transform @ (col + 1, row),
        dataset.transform @ (col, row + 1),
    ]
    lons, lats = transform(dataset.crs, "EPSG:4326", [p[0] for p in points], [p[1] for p in points])
    _, _, dx = GEOD.inv(lons[0], lats[0], lons[1], lats[1])
    _, _, dy = GEOD.inv(lons[0], lats[0], lons[2], lats[2])
    return float(math.sqrt(dx * dy))


def describe(path: str) -> RasterFacts:
    """Open a raster (local path or URL) and read its facts, or InvalidInput."""
    try:
        with rasterio.open(path) as dataset:
            if dataset.crs is None:
                raise InvalidInput("the raster has no coordinate reference system")
            if dataset.count == 0:
                raise InvalidInput("the raster has no bands")
            facts = RasterFacts(
                footprint=_footprint(dataset),
                crs=dataset.crs.to_string(),
                resolution_m=_ground_resolution(dataset),
                width=dataset.width,
                height=dataset.height,
                band_count=dataset.count,
                dtype=dataset.dtypes[0],
                nodata=dataset.nodata,
                is_cog=False,
            )
    except RasterioError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise InvalidInput(f"not a readable raster: {reason}", code="not_a_raster") from None
    is_cog, _, _ = cog_validate(path, quiet=True)
    return RasterFacts(**{**facts.__dict__, "is_cog": bool(is_cog)})


def convert_to_cog(source: str, destination: Path) -> None:
    """Write a Cloud-Optimized GeoTIFF (internal overviews, 512-px blocks) of any raster."""
    profile = cog_profiles.get("deflate")  # lossless: the client's pixels stay as they were
    destination.parent.mkdir(parents=True, exist_ok=True)
    cog_translate(
        source,
        str(destination),
        profile,
        overview_resampling="average",
        quiet=True,
        in_memory=False,
        web_optimized=False,
    )
