"""Turning an ImageData into bytes, with TiTiler's output conventions.

The rules are TiTiler's (`titiler.core.utils.render_image`): rescale, colormap, the default
format (JPEG, or PNG when the tile has masked pixels), and rescaling to 8 bits for formats
that need it. The encoding differs: 8-bit PNG, JPEG and WebP go through Pillow
(libjpeg-turbo, zlib, libwebp) instead of a GDAL in-memory dataset, which is several times
faster for the same pixels; everything else (GeoTIFF, NPY, 16-bit PNG) uses rio-tiler's render.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image
from rasterio.dtypes import dtype_ranges
from rio_tiler.colormap import apply_cmap
from rio_tiler.errors import InvalidFormat
from rio_tiler.models import ImageData
from rio_tiler.utils import linear_rescale, render

from app.errors import InvalidInput

FORMATS = ("png", "jpeg", "jpg", "webp", "tif", "tiff", "npy", "pngraw")
MEDIA_TYPES = {
    "png": "image/png",
    "pngraw": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "tif": "image/tiff; application=geotiff",
    "tiff": "image/tiff; application=geotiff",
    "npy": "application/x-binary",
}
_DRIVERS = {
    "png": "PNG",
    "pngraw": "PNG",
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "webp": "WEBP",
    "tif": "GTiff",
    "tiff": "GTiff",
    "npy": "NPY",
}
_PROFILES = {
    "png": {"zlevel": 6},
    "pngraw": {"zlevel": 1},
    "jpeg": {"quality": 85},
    "jpg": {"quality": 85},
    "webp": {"quality": 75, "lossless": False},
}
_EIGHT_BIT_ONLY = {"jpeg", "jpg", "webp"}


def _dtype_range(dtype: np.dtype) -> tuple[float, float]:
    return dtype_ranges[str(dtype)]


def to_uint8(
    data: np.ndarray, mask: np.ndarray, in_range: Sequence[tuple[float, float]]
) -> np.ndarray:
    """Linear rescale of each band from its range to 0..255; masked pixels become 0."""
    ranges = list(in_range) if len(in_range) == data.shape[0] else [in_range[0]] * data.shape[0]
    out = np.empty(data.shape, dtype=np.uint8)
    for band, (low, high) in enumerate(ranges):
        scaled = linear_rescale(data[band], in_range=(low, high), out_range=(0, 255))
        out[band] = np.where(mask > 0, scaled, 0)
    return out


def render_image(
    image: ImageData,
    fmt: str | None,
    *,
    colormap: dict | None = None,
    rescale: Sequence[tuple[float, float]] | None = None,
    add_mask: bool = True,
) -> tuple[bytes, str, str]:
    """(content, media type, format actually used) for an image."""
    if rescale:
        image.rescale(list(rescale))
    data, mask = image.data.copy(), image.mask.copy()
    input_range = _dtype_range(data.dtype)
    output_range = image.dataset_statistics or [input_range]
    if colormap:
        data, alpha = apply_cmap(data, colormap)
        output_range = [_dtype_range(data.dtype)]
        mask = np.where(mask != input_range[0], alpha, output_range[0][0]).astype(data.dtype)
    eight_bit = set(_EIGHT_BIT_ONLY)
    if fmt is None:
        masked = bool((mask == _dtype_range(mask.dtype)[0]).any())
        fmt = "png" if masked else "jpeg"
        eight_bit.add("png")  # the automatic choice gives the same dtype either way
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown image format {fmt!r}; one of {', '.join(FORMATS)}")
    allowed = ("uint8",) if fmt in eight_bit else ("uint8", "uint16") if fmt == "png" else None
    if allowed and str(data.dtype) not in allowed:
        data = to_uint8(data, mask, output_range)
    if fmt in ("png", "jpeg", "jpg", "webp") and data.dtype == np.uint8 and data.shape[0] in (1, 3):
        return _pillow(data, mask if add_mask else None, fmt), MEDIA_TYPES[fmt], fmt
    options = dict(_PROFILES.get(fmt, {}))
    if _DRIVERS[fmt] == "GTiff":
        options.update(transform=image.transform, crs=image.crs)
    try:
        content = render(data, mask if add_mask else None, img_format=_DRIVERS[fmt], **options)
    except InvalidFormat:
        bands = data.shape[0] + (1 if add_mask and fmt != "npy" else 0)
        raise InvalidInput(
            f"{bands} bands of {data.dtype} cannot be encoded as {fmt}; pick at most 3 bands "
            "with bidx (plus the mask), return_mask=false, or the npy/tif formats"
        ) from None
    return content, MEDIA_TYPES[fmt], fmt


def _pillow(data: np.ndarray, mask: np.ndarray | None, fmt: str) -> bytes:
    """8-bit gray or RGB (+ the mask as alpha, except for JPEG) encoded by Pillow."""
    bands = [band for band in data]
    if fmt == "webp" and len(bands) == 1:  # WebP has no gray mode: GDAL repeats the band too
        bands = bands * 3
    if mask is not None and fmt not in ("jpeg", "jpg"):
        bands.append(mask.astype(np.uint8))
    pixels = np.ascontiguousarray(np.stack(bands, axis=-1) if len(bands) > 1 else bands[0])
    picture = Image.fromarray(pixels)  # L, LA, RGB or RGBA from the shape
    buffer = io.BytesIO()
    if fmt == "png":
        picture.save(buffer, format="PNG", compress_level=6)
    elif fmt in ("jpeg", "jpg"):
        picture.save(buffer, format="JPEG", quality=85)
    else:
        picture.save(buffer, format="WEBP", quality=75, lossless=False)
    return buffer.getvalue()
