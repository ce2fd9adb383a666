"""A synthetic but map-like world whose truth is known by construction.

An aerial image (roads, blocks of buildings with varied roofs, fields, trees, a river, a park,
a stadium, a water tower) drawn with Pillow on a local transverse-Mercator grid, the same
objects as vector features, and three flights over it. Everything is seeded: the same seed
draws the same world.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from pyproj import Transformer
from shapely import transform as shapely_transform
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from app.synthetic.flights import SyntheticFlight, lawnmower, orbit, transect

ORIGIN = (8.5400, 47.3700)  # lon, lat of the world's centre
SIZE_PX = 3000
PIXEL_M = 0.3
HALF_M = SIZE_PX * PIXEL_M / 2
ROOFS = [
    (178, 74, 52),
    (150, 150, 152),
    (92, 66, 52),
    (225, 222, 212),
    (120, 45, 40),
    (96, 104, 112),
    (200, 160, 110),
]


@dataclass
class WorldFeature:
    """A landmark of the world, in WGS84."""

    feature_class: str
    name: str | None
    geometry: BaseGeometry
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    """The picture, its georeferencing, its features and its flights."""

    image: np.ndarray  # (3, H, W) uint8
    crs: str
    bounds: tuple[float, float, float, float]  # in `crs`
    features: list[WorldFeature]
    flights: dict[str, SyntheticFlight]


def local_crs(origin: tuple[float, float] = ORIGIN) -> str:
    """A transverse Mercator centred on the origin: metres east and north of it."""
    lon, lat = origin
    return f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"


class _Canvas:
    """Pixel drawing with metric bookkeeping: pixel (col, row) <-> local metres."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.image = Image.new("RGB", (SIZE_PX, SIZE_PX), (110, 140, 80))
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def metres(col: float, row: float) -> tuple[float, float]:
        return -HALF_M + col * PIXEL_M, HALF_M - row * PIXEL_M

    def geometry(self, shape: BaseGeometry) -> BaseGeometry:
        """A pixel-space shape in local metres."""
        return shapely_transform(
            shape,
            lambda xy: np.column_stack([-HALF_M + xy[:, 0] * PIXEL_M, HALF_M - xy[:, 1] * PIXEL_M]),
        )


def _fields(canvas: _Canvas) -> None:
    colors = [(112, 146, 78), (134, 158, 88), (160, 140, 96), (96, 128, 70), (170, 160, 110)]
    step = 250
    for row in range(0, SIZE_PX, step):
        for col in range(0, SIZE_PX, step):
            color = colors[int(canvas.rng.integers(len(colors)))]
            canvas.draw.rectangle([col, row, col + step, row + step], fill=color)
            for stripe in range(col, col + step, 12):  # plough lines
                shade = tuple(max(0, c - 10) for c in color)
                canvas.draw.line([stripe, row, stripe, row + step], fill=shade, width=3)


def _river(canvas: _Canvas, features: list) -> None:
    cols = np.linspace(-50, SIZE_PX + 50, 40)
    rows = 2550 + 80 * np.sin(cols / 300.0)
    points = list(zip(cols.tolist(), rows.tolist(), strict=True))
    canvas.draw.line(points, fill=(58, 92, 128), width=70, joint="curve")
    band = LineString(points).buffer(35)
    features.append(WorldFeature("water", "Silver River", canvas.geometry(band)))


def _roads_and_blocks(canvas: _Canvas, features: list) -> list[tuple[int, int, int, int]]:
    lines = list(range(300, 2400, 300))
    blocks = []
    for index, position in enumerate(lines):
        for vertical in (True, False):
            if vertical:
                start, end = (position, 150), (position, 2350)
            else:
                start, end = (150, position), (2850, position)
            canvas.draw.line([start, end], fill=(88, 88, 92), width=24)
            canvas.draw.line([start, end], fill=(210, 210, 200), width=2)
            name = f"{'Avenue' if vertical else 'Street'} {index + 1}"
            features.append(
                WorldFeature(
                    "road", name, canvas.geometry(LineString([start, end])), {"width_m": 7.2}
                )
            )
    for top, bottom in itertools.pairwise(lines):
        for left, right in itertools.pairwise(lines):
            blocks.append((left + 20, top + 20, right - 20, bottom - 20))
    return blocks


def _buildings(canvas: _Canvas, blocks: list, features: list, special: dict) -> None:
    rng = canvas.rng
    for number, (left, top, right, bottom) in enumerate(blocks):
        if number in special:
            continue
        for row in range(2):
            for col in range(3):
                if rng.random() < 0.2:
                    continue
                w, h = (right - left) / 3, (bottom - top) / 2
                x0 = left + col * w + rng.uniform(8, 20)
                y0 = top + row * h + rng.uniform(8, 20)
                x1 = left + (col + 1) * w - rng.uniform(8, 20)
                y1 = top + (row + 1) * h - rng.uniform(8, 20)
                roof = ROOFS[int(rng.integers(len(ROOFS)))]
                canvas.draw.rectangle([x0 + 6, y0 + 6, x1 + 6, y1 + 6], fill=(60, 70, 50))
                canvas.draw.rectangle([x0, y0, x1, y1], fill=roof)
                ridge = tuple(max(0, c - 35) for c in roof)
                canvas.draw.line([x0, (y0 + y1) / 2, x1, (y0 + y1) / 2], fill=ridge, width=3)
                features.append(
                    WorldFeature(
                        "building",
                        None,
                        canvas.geometry(box(x0, y0, x1, y1)),
                        {"roof_rgb": list(roof), "height_m": round(float(rng.uniform(6, 24)), 1)},
                    )
                )


def _landmarks(canvas: _Canvas, blocks: list, features: list) -> dict[int, str]:
    """Named places in chosen blocks; returns block number -> name."""
    special = {14: "Town Hall", 21: "Central Park", 33: "Stadium", 3: "Water Tower"}
    for number, name in special.items():
        left, top, right, bottom = blocks[number]
        cx, cy = (left + right) / 2, (top + bottom) / 2
        if name == "Town Hall":
            shape = box(cx - 80, cy - 60, cx + 80, cy + 60)
            canvas.draw.rectangle(shape.bounds, fill=(232, 212, 140))
            canvas.draw.rectangle([cx - 25, cy - 25, cx + 25, cy + 25], fill=(90, 120, 150))
            features.append(
                WorldFeature(
                    "building",
                    name,
                    canvas.geometry(shape),
                    {"height_m": 28.0, "roof_rgb": [232, 212, 140]},
                )
            )
        elif name == "Central Park":
            shape = box(left, top, right, bottom)
            canvas.draw.rectangle(shape.bounds, fill=(84, 150, 70))
            for _ in range(60):
                x, y = (
                    canvas.rng.uniform(left + 10, right - 10),
                    canvas.rng.uniform(top + 10, bottom - 10),
                )
                r = canvas.rng.uniform(8, 18)
                canvas.draw.ellipse([x - r, y - r, x + r, y + r], fill=(38, 92, 40))
            features.append(WorldFeature("park", name, canvas.geometry(shape)))
        elif name == "Stadium":
            shape = Point(cx, cy).buffer(110).intersection(box(left, top, right, bottom))
            canvas.draw.ellipse([cx - 110, cy - 90, cx + 110, cy + 90], fill=(190, 190, 196))
            canvas.draw.ellipse([cx - 80, cy - 60, cx + 80, cy + 60], fill=(60, 160, 60))
            features.append(
                WorldFeature("building", name, canvas.geometry(shape), {"height_m": 18.0})
            )
        else:
            canvas.draw.ellipse([cx - 30, cy - 30, cx + 30, cy + 30], fill=(200, 200, 205))
            canvas.draw.ellipse([cx - 12, cy - 12, cx + 12, cy + 12], fill=(120, 120, 130))
            features.append(
                WorldFeature(
                    "building", name, canvas.geometry(Point(cx, cy).buffer(30)), {"height_m": 35.0}
                )
            )
        features.append(WorldFeature("poi", name, canvas.geometry(Point(cx, cy))))
    return special


def _trees(canvas: _Canvas, features: list) -> None:
    for _ in range(400):
        x, y = canvas.rng.uniform(0, SIZE_PX), canvas.rng.uniform(2380, 2470)
        r = canvas.rng.uniform(6, 14)
        canvas.draw.ellipse([x - r, y - r, x + r, y + r], fill=(40, 88, 42))


def _to_wgs84(features: list, crs: str) -> None:
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    for feature in features:
        feature.geometry = shapely_transform(
            feature.geometry, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
        )


def landmark(world: World, name: str) -> WorldFeature:
    """A named point of interest."""
    return next(f for f in world.features if f.feature_class == "poi" and f.name == name)


def _flights(world_features: list) -> dict[str, SyntheticFlight]:
    town_hall = next(
        f for f in world_features if f.name == "Town Hall" and f.feature_class == "poi"
    )
    survey = lawnmower(ORIGIN, width=480, height=420, spacing=120, speed=8.0, fps=10.0)
    around = orbit(
        (town_hall.geometry.x, town_hall.geometry.y), radius=140, laps=1.0, speed=8.0, fps=10.0
    )
    start = (ORIGIN[0] - 0.0045, ORIGIN[1] - 0.0035)
    crossing = transect(start, [(45, 320), (110, 260), (20, 300)], speed=10.0, fps=10.0)
    return {"survey": survey, "orbit": around, "transect": crossing}


def build_world(seed: int = 7) -> World:
    """Draw the world and lay out its flights."""
    canvas = _Canvas(np.random.default_rng(seed))
    features: list[WorldFeature] = []
    _fields(canvas)
    _river(canvas, features)
    blocks = _roads_and_blocks(canvas, features)
    special = _landmarks(canvas, blocks, features)
    _buildings(canvas, blocks, features, special)
    _trees(canvas, features)
    picture = canvas.image.filter(ImageFilter.GaussianBlur(0.6))
    pixels = np.asarray(picture, dtype=np.int16)
    noise = canvas.rng.normal(0, 5, pixels.shape)
    pixels = np.clip(pixels + noise, 0, 255).astype(np.uint8)
    crs = local_crs()
    _to_wgs84(features, crs)
    return World(
        image=np.moveaxis(pixels, -1, 0),
        crs=crs,
        bounds=(-HALF_M, -HALF_M, HALF_M, HALF_M),
        features=features,
        flights=_flights(features),
    )
