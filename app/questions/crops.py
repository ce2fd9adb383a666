"""Satellite crops: square windows of the map, north up, in Web Mercator pixels.

A crop is given by its centre and its side in ground metres; it is read from the imagery in
EPSG:3857 (what web maps and most satellite basemaps use), so a crop's pixels are square on the
ground. `to_pixels` places geographic points on it, for drawing marks and for answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Transformer

_TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)

QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right")
GRID3 = (
    ("top-left", "top-centre", "top-right"),
    ("middle-left", "centre", "middle-right"),
    ("bottom-left", "bottom-centre", "bottom-right"),
)


@dataclass(frozen=True)
class Crop:
    """A square window: Web Mercator bounds and the image size in pixels."""

    bounds: tuple[float, float, float, float]  # EPSG:3857 minx, miny, maxx, maxy
    size: int

    @classmethod
    def around(cls, lon: float, lat: float, side_m: float, size: int = 512) -> Crop:
        """The window of `side_m` ground metres centred on (lon, lat)."""
        x, y = _TO_MERCATOR.transform(lon, lat)
        half = side_m / 2 / math.cos(math.radians(lat))  # Mercator metres per ground metre
        return cls((x - half, y - half, x + half, y + half), size)

    @classmethod
    def covering(
        cls,
        lon: np.ndarray,
        lat: np.ndarray,
        margin: float = 0.15,
        min_side_m: float = 150.0,
        size: int = 512,
    ) -> Crop:
        """The smallest square (plus a margin on each side) holding all the points."""
        x, y = _TO_MERCATOR.transform(np.asarray(lon, float), np.asarray(lat, float))
        x, y = np.asarray(x), np.asarray(y)
        middle_lat = float(np.mean(lat))
        scale = math.cos(math.radians(middle_lat))
        span = max(np.ptp(x), np.ptp(y)) * (1 + 2 * margin)
        span = max(span, min_side_m / scale)
        cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
        return cls((cx - span / 2, cy - span / 2, cx + span / 2, cy + span / 2), size)

    @property
    def side_m(self) -> float:
        """The side in ground metres (at the crop's centre)."""
        lat = self.bbox[1] / 2 + self.bbox[3] / 2
        return (self.bounds[2] - self.bounds[0]) * math.cos(math.radians(lat))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """West, south, east, north in WGS84."""
        west, south = _TO_WGS84.transform(self.bounds[0], self.bounds[1])
        east, north = _TO_WGS84.transform(self.bounds[2], self.bounds[3])
        return (west, south, east, north)

    def to_pixels(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column and row (float, origin top-left) of geographic points."""
        x, y = _TO_MERCATOR.transform(np.asarray(lon, float), np.asarray(lat, float))
        minx, miny, maxx, maxy = self.bounds
        col = (np.asarray(x) - minx) / (maxx - minx) * self.size
        row = (maxy - np.asarray(y)) / (maxy - miny) * self.size
        return col, row

    def to_lonlat(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Geographic points of crop pixels."""
        minx, miny, maxx, maxy = self.bounds
        x = minx + np.asarray(col, float) / self.size * (maxx - minx)
        y = maxy - np.asarray(row, float) / self.size * (maxy - miny)
        lon, lat = _TO_WGS84.transform(x, y)
        return np.asarray(lon), np.asarray(lat)

    def cell(self, lon: float, lat: float, cells: int) -> tuple[int, int, float]:
        """Row and column of the (cells x cells) grid cell holding the point, and how far it
        is from the nearest grid line, as a fraction of a cell (0.5 = in the middle)."""
        col, row = self.to_pixels(lon, lat)
        fc, fr = float(col) / self.size * cells, float(row) / self.size * cells
        c, r = math.floor(fc), math.floor(fr)
        inside = 0 <= c < cells and 0 <= r < cells
        margin = min(fc - c, c + 1 - fc, fr - r, r + 1 - fr) if inside else -1.0
        return r, c, margin

    def cell_polygon(self, row: int, col: int, cells: int) -> list[list[float]]:
        """The cell's outline as a closed lon/lat ring."""
        step = self.size / cells
        cols = np.array([col, col + 1, col + 1, col, col]) * step
        rows = np.array([row, row, row + 1, row + 1, row]) * step
        lon, lat = self.to_lonlat(cols, rows)
        return np.stack([lon, lat], -1).tolist()

    def as_json(self) -> dict:
        """What a client needs to fetch the same crop (`/mosaic/bbox/...`) and draw on it."""
        return {
            "bbox": [round(v, 8) for v in self.bbox],
            "crs": "EPSG:3857",
            "bounds": [round(v, 3) for v in self.bounds],
            "width": self.size,
            "height": self.size,
            "side_m": round(self.side_m, 1),
        }

    @classmethod
    def from_json(cls, data: dict) -> Crop:
        return cls(tuple(data["bounds"]), int(data["width"]))  # type: ignore[arg-type]
