"""Terrain from a `kind=dem` scene: a height sampler for the camera model's ray marching."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pyproj import Geod
from rasterio.crs import CRS

from app.db.scenes import SceneRef
from app.raster.service import Imagery, read_errors, tile_matrix_set

GEOD = Geod(ellps="WGS84")


def dem_sampler(
    imagery: Imagery, scene: SceneRef, lon: float, lat: float, radius_m: float, size: int = 1024
) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], tuple[float, float]]:
    """Heights (nearest DEM cell, NaN where none) around a point, and their (min, max)."""
    east = GEOD.fwd(lon, lat, 90, radius_m)[0]
    west = GEOD.fwd(lon, lat, 270, radius_m)[0]
    north = GEOD.fwd(lon, lat, 0, radius_m)[1]
    south = GEOD.fwd(lon, lat, 180, radius_m)[1]
    west, south = max(west, scene.bounds[0]), max(south, scene.bounds[1])
    east, north = min(east, scene.bounds[2]), min(north, scene.bounds[3])
    reader = imagery.reader(scene, tile_matrix_set("WebMercatorQuad"))
    part = read_errors(
        lambda: reader.part(
            (west, south, east, north), indexes=(1,), dst_crs=CRS.from_epsg(4326), max_size=size
        )
    )
    heights = np.where(part.mask > 0, part.data[0].astype(float), np.nan)
    rows, cols = heights.shape
    known = heights[np.isfinite(heights)]
    span = (float(known.min()), float(known.max())) if known.size else (0.0, 0.0)

    def sample(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        col = np.floor((lons - west) / (east - west) * cols).astype(int)
        row = np.floor((north - lats) / (north - south) * rows).astype(int)
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        out = np.full(np.shape(lons), np.nan)
        out[inside] = heights[row[inside], col[inside]]
        return out

    return sample, span
