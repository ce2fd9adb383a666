"""Pinhole camera intrinsics with optional Brown–Conrady distortion.

Pixels: `u` to the right, `v` down, origin at the top-left corner of the top-left pixel, so
the image centre of a W×H frame is (W/2, H/2).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)  # what "35 mm equivalent" is defined against
DISTORTION_TERMS = ("k1", "k2", "p1", "p2", "k3")


class CameraSpecError(ValueError):
    """A camera description that cannot be turned into intrinsics."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels, plus Brown–Conrady distortion coefficients."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    k1: float = 0.0
    k2: float = 0.0
    p1: float = 0.0
    p2: float = 0.0
    k3: float = 0.0

    @property
    def has_distortion(self) -> bool:
        """True when any distortion coefficient is non-zero."""
        return any(getattr(self, name) for name in DISTORTION_TERMS)

    @property
    def hfov_deg(self) -> float:
        """Horizontal field of view in degrees."""
        return math.degrees(2.0 * math.atan(self.width / (2.0 * self.fx)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (distortion terms only when non-zero), with the derived FOV."""
        data = {k: v for k, v in asdict(self).items() if k not in DISTORTION_TERMS or v}
        data["hfov_deg"] = round(self.hfov_deg, 6)
        return data


MAX_SIDE = 100_000  # pixels; no camera's frame is wider or taller


def _number(spec: dict[str, Any], name: str, default: float | None = None) -> float:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CameraSpecError(f"camera.{name} must be a number")
    return float(value)


def _positive(spec: dict[str, Any], name: str) -> float:
    value = _number(spec, name)
    if value <= 0:
        raise CameraSpecError(f"camera.{name} must be positive")
    return value


def from_spec(spec: dict[str, Any]) -> Intrinsics:
    """Intrinsics from a request's camera object.

    Accepts `width`, `height` and one of: `fx` (+ `fy`, `cx`, `cy`), `hfov_deg`,
    `focal_mm` + `sensor_width_mm`, or `focal35_mm` (× `zoom`, the digital zoom ratio);
    plus optional `k1 k2 p1 p2 k3`.
    """
    if not isinstance(spec, dict):
        raise CameraSpecError("camera must be a JSON object")
    width, height = _positive(spec, "width"), _positive(spec, "height")
    if width != int(width) or height != int(height) or max(width, height) > MAX_SIDE:
        raise CameraSpecError(
            f"camera.width and camera.height must be whole pixels, at most {MAX_SIDE:,}"
        )
    if "fx" in spec:
        fx = _positive(spec, "fx")
        fy = _positive(spec, "fy") if "fy" in spec else fx
    elif "hfov_deg" in spec:
        hfov = _positive(spec, "hfov_deg")
        if hfov >= 180:
            raise CameraSpecError("camera.hfov_deg must be below 180")
        fx = fy = width / (2.0 * math.tan(math.radians(hfov) / 2.0))
    elif "focal_mm" in spec:
        if "sensor_width_mm" not in spec:
            raise CameraSpecError("camera.focal_mm needs camera.sensor_width_mm")
        fx = fy = _positive(spec, "focal_mm") * width / _positive(spec, "sensor_width_mm")
    elif "focal35_mm" in spec:
        zoom = _positive(spec, "zoom") if "zoom" in spec else 1.0
        focal35 = _positive(spec, "focal35_mm") * zoom
        fx = fy = focal35 * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM
    else:
        raise CameraSpecError(
            "camera needs one of: fx, hfov_deg, focal_mm + sensor_width_mm, focal35_mm"
        )
    cx, cy = _number(spec, "cx", width / 2.0), _number(spec, "cy", height / 2.0)
    distortion = {name: _number(spec, name, 0.0) for name in DISTORTION_TERMS}
    return Intrinsics(int(width), int(height), fx, fy, cx, cy, **distortion)
