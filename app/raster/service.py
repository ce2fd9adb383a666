"""Reading scenes through rio-tiler, with the caches: open readers per thread, rendered tiles.

Endpoints are plain `def` (GDAL releases the GIL while it reads); every reader is used by the
one thread that opened it.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import morecantile
import numpy as np
from morecantile import TileMatrixSet
from rio_tiler.errors import (
    EmptyMosaicError,
    InvalidBandName,
    InvalidExpression,
    MissingBands,
    PointOutsideBounds,
    TileOutsideBounds,
)
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from rio_tiler.mosaic import mosaic_reader
from rio_tiler.mosaic.methods import FirstMethod

from app.db.scenes import SceneRef
from app.errors import InvalidInput, NotFound
from app.raster.cache import LRU, PerThreadLRU
from app.settings import Settings

# GDAL tuned as TiTiler's performance guide says; set once, before the first dataset opens
GDAL_OPTIONS = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_CACHEMAX": "512",
    "VSI_CACHE": "TRUE",
    "VSI_CACHE_SIZE": "67108864",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "GDAL_HTTP_VERSION": "2",
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF",
}


def configure_gdal() -> None:
    """Apply the GDAL options (an operator's own environment wins)."""
    for name, value in GDAL_OPTIONS.items():
        os.environ.setdefault(name, value)


_THREAD_TMS = threading.local()


def tile_matrix_set(identifier: str) -> TileMatrixSet:
    """A morecantile TMS by id (one copy per thread: `tms.get` copies), or InvalidInput."""
    known = getattr(_THREAD_TMS, "sets", None)
    if known is None:
        known = _THREAD_TMS.sets = {}
    matrix_set = known.get(identifier)
    if matrix_set is None:
        try:
            matrix_set = known[identifier] = morecantile.tms.get(identifier)
        except Exception:
            names = ", ".join(morecantile.tms.list())
            raise InvalidInput(f"unknown tile matrix set {identifier!r}; one of {names}") from None
    return matrix_set


def check_tile(matrix_set: TileMatrixSet, z: int, x: int, y: int) -> None:
    """InvalidInput for tile indices the set does not have (negative, past its last zoom or
    past a zoom's matrix)."""
    if not matrix_set.is_valid(x, y, z):
        raise InvalidInput(f"tile {z}/{x}/{y} does not exist in {matrix_set.id}")


@dataclass(frozen=True)
class ReadOptions:
    """Band selection and reading options shared by every image endpoint (TiTiler's names)."""

    indexes: tuple[int, ...] | None = None
    expression: str | None = None
    nodata: float | None = None
    resampling: str | None = None
    reproject: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for rio-tiler's readers."""
        kwargs: dict[str, Any] = {}
        if self.expression:
            kwargs["expression"] = self.expression
        elif self.indexes:
            kwargs["indexes"] = self.indexes
        if self.nodata is not None:
            kwargs["nodata"] = self.nodata
        if self.resampling:
            kwargs["resampling_method"] = self.resampling
        if self.reproject:
            kwargs["reproject_method"] = self.reproject
        return kwargs


def cache_key(*parts: Any) -> str:
    """A strong validator (ETag) for a rendered output."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def _check_nodata(dataset: Any, nodata: float | None) -> None:
    """InvalidInput when a nodata override is not a value of the dataset's pixel type."""
    if nodata is None:
        return
    dtype = np.dtype(dataset.dtypes[0])
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if not (math.isfinite(nodata) and nodata.is_integer() and info.min <= nodata <= info.max):
            raise InvalidInput(
                f"nodata {nodata:g} is not a {dtype} value (whole numbers {info.min}..{info.max})"
            )
    elif math.isfinite(nodata) and abs(nodata) > np.finfo(dtype).max:
        raise InvalidInput(f"nodata {nodata:g} is out of the {dtype} range")


class SceneReader(Reader):
    """rio-tiler's Reader with a nodata override checked against the pixel type first (a 422
    instead of numpy's cast error deep inside the read). `tile`, `feature`, `preview` and
    `statistics` go through `part` or `read`."""

    def part(self, *args: Any, **kwargs: Any) -> ImageData:
        _check_nodata(self.dataset, kwargs.get("nodata"))
        return super().part(*args, **kwargs)

    def read(self, *args: Any, **kwargs: Any) -> ImageData:
        _check_nodata(self.dataset, kwargs.get("nodata"))
        return super().read(*args, **kwargs)

    def point(self, *args: Any, **kwargs: Any) -> Any:
        _check_nodata(self.dataset, kwargs.get("nodata"))
        return super().point(*args, **kwargs)


class Imagery:
    """Open readers (per thread) and rendered tiles (shared), both bounded LRUs."""

    def __init__(self, settings: Settings) -> None:
        self.readers = PerThreadLRU(settings.dataset_cache_size)
        self.tiles = LRU(settings.tile_cache_size)

    def reader(self, scene: SceneRef, tms: TileMatrixSet) -> Reader:
        """This thread's open reader for the scene (opened on first use)."""
        key = (scene.id, scene.version, tms.id)
        reader = self.readers.get(key)
        if reader is None:
            reader = SceneReader(scene.path, tms=tms)
            self.readers.put(key, reader)
        return reader

    def forget(self, scene_id: int) -> None:
        """Drop a scene's readers and tiles (on delete)."""
        self.readers.drop(lambda key: key[0] == scene_id)
        self.tiles.drop(lambda key: scene_id in key[0])

    def cached(self, scene_ids: tuple[int, ...], key: str, make: Callable[[], Any]) -> Any:
        """A rendered output from the tile cache, or made and stored."""
        value = self.tiles.get((scene_ids, key))
        if value is None:
            value = make()
            self.tiles.put((scene_ids, key), value)
        return value


def read_errors(action: Callable[[], Any]) -> Any:
    """Run a rio-tiler read, turning its client-caused errors into 4xx."""
    try:
        return action()
    except TileOutsideBounds as exc:
        raise NotFound(f"tile outside the scene: {exc}", code="tile_outside_bounds") from None
    except PointOutsideBounds as exc:
        raise NotFound(f"point outside the scene: {exc}", code="point_outside_bounds") from None
    except EmptyMosaicError:
        raise NotFound("no scene has data in this tile", code="empty_mosaic") from None
    except (InvalidExpression, InvalidBandName, MissingBands) as exc:
        raise InvalidInput(f"bands: {exc}") from None
    except IndexError as exc:
        raise InvalidInput(f"bidx: {exc}") from None


def _mosaic(
    imagery: Imagery,
    scenes: list[SceneRef],
    tms: TileMatrixSet,
    method: str,
    *args: Any,
    **kwargs: Any,
) -> ImageData:
    """Scenes painted in order (first = on top) with one reader method (`tile` or `part`),
    through the cached readers, in this thread (readers belong to the thread that opened
    them)."""

    def read(scene: SceneRef, *a: Any, **kw: Any) -> ImageData:
        return getattr(imagery.reader(scene, tms), method)(*a, **kw)

    image, _ = mosaic_reader(
        scenes, read, *args, pixel_selection=FirstMethod(), threads=0, **kwargs
    )
    return image


def mosaic_tile(
    imagery: Imagery,
    scenes: list[SceneRef],
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    *,
    tilesize: int,
    buffer: float,
    options: ReadOptions,
) -> ImageData:
    """The tile painted from scenes in order (first = on top)."""
    return _mosaic(
        imagery,
        scenes,
        tms,
        "tile",
        x,
        y,
        z,
        tilesize=tilesize,
        buffer=buffer,
        **options.as_kwargs(),
    )


def mosaic_part(
    imagery: Imagery,
    scenes: list[SceneRef],
    bbox: tuple[float, float, float, float],
    **kwargs: Any,
) -> ImageData:
    """A bbox painted from scenes in order (first = on top); `kwargs` go to `Reader.part`
    (dst_crs, bounds_crs, width, height, ...). NotFound when no scene has data there."""
    tms = tile_matrix_set("WebMercatorQuad")
    return read_errors(lambda: _mosaic(imagery, scenes, tms, "part", bbox, **kwargs))
