"""Marks on satellite crops: outlined landmarks, lettered boxes and regions, tracks with a
start dot and an arrow, grid lines (Pillow)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from app.questions.crops import Crop

COLOURS = ((255, 59, 48), (0, 122, 255), (255, 204, 0), (52, 199, 89))  # options A-D
MARK = (255, 45, 85)  # a landmark the question names


def _draw_geometry(
    draw: ImageDraw.ImageDraw, crop: Crop, geometry: dict, colour: tuple, width: int
) -> tuple[float, float]:
    """Draw a GeoJSON geometry; returns a pixel to put its label at."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        col, row = crop.to_pixels(coordinates[0], coordinates[1])
        r = 6
        draw.ellipse((col - r, row - r, col + r, row + r), outline=colour, width=width)
        return float(col) + 8, float(row) - 8
    if kind in ("LineString", "MultiPoint"):
        rings = [coordinates]
    elif kind in ("Polygon", "MultiLineString"):
        rings = coordinates
    elif kind == "MultiPolygon":
        rings = [ring for polygon in coordinates for ring in polygon]
    else:  # GeometryCollection and the like: draw nothing, label at the middle
        return crop.size / 2, crop.size / 2
    label_at = (crop.size / 2, crop.size / 2)
    for n, ring in enumerate(rings):
        xy = np.asarray(ring, dtype=float)
        col, row = crop.to_pixels(xy[:, 0], xy[:, 1])
        draw.line(list(zip(col.tolist(), row.tolist(), strict=True)), fill=colour, width=width)
        if n == 0:
            label_at = (float(col.mean()), float(row.mean()))
    return label_at


def _label(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, colour: tuple) -> None:
    col, row = at
    draw.rectangle((col - 9, row - 9, col + 9, row + 9), fill=(0, 0, 0, 180))
    draw.text((col, row), text, fill=colour, anchor="mm", font_size=15)


def draw_marks(image: Image.Image, crop: Crop, marks: list[dict], grid: int | None) -> None:
    """Marks, boxes, tracks (start dot + end arrow) and grid lines on a crop."""
    draw = ImageDraw.Draw(image, "RGBA")
    if grid:
        step = crop.size / grid
        for i in range(1, grid):
            draw.line(((i * step, 0), (i * step, crop.size)), fill=(255, 255, 255, 220), width=2)
            draw.line(((0, i * step), (crop.size, i * step)), fill=(255, 255, 255, 220), width=2)
    for mark in marks:
        option = mark.get("option")
        colour = COLOURS[option % len(COLOURS)] if option is not None else MARK
        at = _draw_geometry(draw, crop, mark["geometry"], colour, 3)
        if mark["kind"] == "track":
            xy = np.asarray(mark["geometry"]["coordinates"], dtype=float)
            col, row = crop.to_pixels(xy[:, 0], xy[:, 1])
            draw.ellipse((col[0] - 6, row[0] - 6, col[0] + 6, row[0] + 6), fill=colour)
            angle = math.atan2(row[-1] - row[-2], col[-1] - col[-2]) if len(col) > 1 else 0.0
            tip = (col[-1], row[-1])
            wings = [
                (col[-1] - 12 * math.cos(angle + s), row[-1] - 12 * math.sin(angle + s))
                for s in (0.5, -0.5)
            ]
            draw.polygon([tip, *wings], fill=colour)
            at = (float(col[0]) + 14, float(row[0]) - 14)
        if mark.get("label"):
            _label(draw, at, mark["label"], colour)
