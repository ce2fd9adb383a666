"""Synthetic rasters written as Cloud-Optimized GeoTIFFs (rio-cogeo), for tests and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles


def gradient(width: int, height: int, bands: int = 3, dtype: str = "uint8") -> np.ndarray:
    """A (bands, height, width) array whose pixels say where they are (easy to check)."""
    rows, cols = np.mgrid[0:height, 0:width]
    top = 255 if dtype == "uint8" else 4000
    layers = [
        cols * top // max(width - 1, 1),
        rows * top // max(height - 1, 1),
        (cols + rows) * top // max(width + height - 2, 1),
    ]
    while len(layers) < bands:
        layers.append(np.full_like(cols, top))
    return np.stack(layers[:bands]).astype(dtype)


def write_geotiff(
    path: Path,
    data: np.ndarray,
    *,
    crs: str,
    bounds: tuple[float, float, float, float],
    nodata: float | None = None,
    alpha: bool = False,
    cog: bool = True,
    profile: str = "deflate",
) -> Path:
    """Write (bands, h, w) data covering `bounds` in `crs`: a COG, or a plain striped GeoTIFF."""
    count, height, width = data.shape
    meta = {
        "driver": "GTiff",
        "count": count,
        "height": height,
        "width": width,
        "dtype": str(data.dtype),
        "crs": crs,
        "transform": from_bounds(*bounds, width, height),
        "nodata": nodata,
    }
    if alpha:
        meta.update(photometric="RGB", alpha="YES")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cog:
        with rasterio.open(path, "w", **meta) as dst:
            dst.write(data)
            if alpha:
                dst.colorinterp = [*dst.colorinterp[:3], rasterio.enums.ColorInterp.alpha]
        return path
    with MemoryFile() as memory:
        with memory.open(**meta) as dst:
            dst.write(data)
            if alpha:
                dst.colorinterp = [*dst.colorinterp[:3], rasterio.enums.ColorInterp.alpha]
        with memory.open() as src:
            options = cog_profiles.get(profile)
            options.update(blockxsize=256, blockysize=256)
            cog_translate(
                src, str(path), options, quiet=True, in_memory=True, overview_resampling="nearest"
            )
    return path
