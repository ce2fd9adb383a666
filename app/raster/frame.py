"""Images for questions: the scene seen through the UAV camera, and satellite crops."""

from __future__ import annotations

import numpy as np
from rasterio.crs import CRS
from rio_tiler.models import ImageData

from app.db.scenes import SceneRef
from app.errors import NotFound
from app.geometry.camera import Intrinsics
from app.geometry.projection import Poses, project_pixels
from app.raster.service import Imagery, mosaic_part, read_errors, tile_matrix_set

WEB_MERCATOR = CRS.from_epsg(3857)


def render_frame(
    imagery: Imagery, ref: SceneRef, camera: Intrinsics, poses: Poses, width: int, max_range: float
) -> np.ndarray:
    """(h, w, 4) RGBA: every output pixel's ground point sampled from the scene (sky clear)."""
    height = max(1, round(width * camera.height / camera.width))
    scale = camera.width / width
    cols, rows = np.meshgrid((np.arange(width) + 0.5) * scale, (np.arange(height) + 0.5) * scale)
    ground = project_pixels(camera, poses, cols.ravel(), rows.ravel(), max_range)
    lon = ground["lon"].reshape(height, width)
    lat = ground["lat"].reshape(height, width)
    out = np.zeros((height, width, 4), dtype=np.uint8)
    seen = np.isfinite(lon)
    if not seen.any():
        return out
    west, east = float(np.nanmin(lon)), float(np.nanmax(lon))
    south, north = float(np.nanmin(lat)), float(np.nanmax(lat))
    side = min(1024, 2 * width)  # scene pixels read: enough for the frame's detail
    reader = imagery.reader(ref, tile_matrix_set("WebMercatorQuad"))
    try:
        part = read_errors(
            lambda: reader.part(
                (west, south, east, north), dst_crs=CRS.from_epsg(4326), width=side, height=side
            )
        )
    except NotFound:  # the frame sees none of the scene
        return out
    bands = _rgb8(part)
    col = np.clip(((lon - west) / max(east - west, 1e-12) * side).astype(int), 0, side - 1)
    row = np.clip(((north - lat) / max(north - south, 1e-12) * side).astype(int), 0, side - 1)
    for channel in range(3):
        out[..., channel] = np.where(seen, bands[channel][row, col], 0)
    out[..., 3] = np.where(seen, part.mask[row, col], 0)
    return out


def read_crop(
    imagery: Imagery,
    scenes: list[SceneRef],
    bounds: tuple[float, float, float, float],
    size: int,
) -> np.ndarray:
    """(size, size, 4) RGBA of a Web Mercator window painted from the scenes (first on top)."""
    out = np.zeros((size, size, 4), dtype=np.uint8)
    if not scenes:
        return out
    try:
        image = mosaic_part(
            imagery,
            scenes,
            bounds,
            bounds_crs=WEB_MERCATOR,
            dst_crs=WEB_MERCATOR,
            width=size,
            height=size,
        )
    except NotFound:  # no scene has data there
        return out
    out[..., :3] = np.moveaxis(_rgb8(image), 0, -1)
    out[..., 3] = image.mask
    return out


def _rgb8(image: ImageData) -> np.ndarray:
    """(3, h, w) 8-bit bands: other types stretched over their range, one band repeated."""
    data = image.data
    if data.dtype != np.uint8:
        data = image.rescale([(float(data.min()), float(data.max() or 1))]).data  # type: ignore
    return data[:3] if data.shape[0] >= 3 else np.repeat(data[:1], 3, axis=0)
