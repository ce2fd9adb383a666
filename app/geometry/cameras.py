"""Common DJI cameras, from the manufacturer's published specifications, and camera look-up.

Each entry gives the still-photo geometry (sensor width, real and 35 mm-equivalent focal
length, photo size) as DJI's spec pages state them; a frame of another size (a 16:9 photo or
a video frame) is taken as a crop or scale of the full sensor width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.geometry.camera import CameraSpecError, Intrinsics, from_spec


@dataclass(frozen=True)
class CameraModel:
    """A camera's published geometry."""

    name: str
    sensor_width_mm: float
    focal_mm: float
    focal35_mm: float
    photo_width: int
    photo_height: int
    source: str


# keyed by the EXIF Model DJI writes (and common names)
CAMERAS: dict[str, CameraModel] = {
    "FC300S": CameraModel(
        "Phantom 3 Advanced",
        6.17,
        3.61,
        20.0,
        4000,
        3000,
        "DJI Phantom 3 Advanced specs: 1/2.36-inch CMOS, FOV 94°, 20 mm (35 mm format equivalent), "
        "f/2.8, 4000x3000; EXIF FocalLength 3.61 mm",
    ),
    "FC220": CameraModel(
        "Mavic Pro",
        6.17,
        4.73,
        26.0,
        4000,
        3000,
        "DJI Mavic Pro specs: 1/2.3-inch CMOS, FOV 78.8°, 26 mm (35 mm format equivalent), f/2.2, "
        "4000x3000",
    ),
    "FC6310R": CameraModel(
        "Phantom 4 RTK",
        13.2,
        8.8,
        24.0,
        5472,
        3648,
        "DJI Phantom 4 RTK specs: 1-inch CMOS, FOV 84°, 8.8 mm / 24 mm (35 mm format "
        "equivalent), 5472x3648",
    ),
    "FC7103": CameraModel(
        "Mavic Mini",
        6.17,
        4.49,
        24.0,
        4000,
        3000,
        "DJI Mavic Mini specs: 1/2.3-inch CMOS, FOV 83°, 24 mm (35 mm format equivalent), f/2.8, "
        "4000x3000",
    ),
    "FC3170": CameraModel(
        "Mavic Air 2",
        6.4,
        4.49,
        24.0,
        8000,
        6000,
        "DJI Mavic Air 2 specs: 1/2-inch CMOS, FOV 84°, 24 mm (35 mm format equivalent), f/2.8, "
        "8000x6000",
    ),
    "FC3411": CameraModel(
        "Air 2S",
        13.2,
        8.38,
        22.0,
        5472,
        3648,
        "DJI Air 2S specs: 1-inch CMOS, FOV 88°, 22 mm (35 mm format equivalent), f/2.8, 5472x3648",
    ),
    "L1D-20c": CameraModel(
        "Mavic 2 Pro",
        13.2,
        10.26,
        28.0,
        5472,
        3648,
        "DJI Mavic 2 Pro specs: 1-inch CMOS, FOV about 77°, 28 mm (35 mm format equivalent), "
        "f/2.8-f/11, 5472x3648",
    ),
    "ZH20-W": CameraModel(
        "Zenmuse H20 wide (Matrice 300)",
        6.17,
        4.5,
        24.0,
        4056,
        3040,
        "DJI Zenmuse H20 specs: wide camera 1/2.3-inch CMOS 12 MP, DFOV 82.9°, 4.5 mm / 24 mm "
        "(35 mm format equivalent), 4056x3040",
    ),
}
ALIASES = {model.name.lower(): key for key, model in CAMERAS.items()}


def known_model(name: str | None) -> CameraModel | None:
    """The table entry for an EXIF model or a product name, or None."""
    if not name:
        return None
    key = name.strip()
    return CAMERAS.get(key) or CAMERAS.get(ALIASES.get(key.lower(), ""))


def intrinsics_for(
    model: CameraModel, width: int | None = None, height: int | None = None
) -> Intrinsics:
    """Intrinsics of a frame from this camera (default: the full photo)."""
    w = width or model.photo_width
    h = height or model.photo_height
    return from_spec(
        {
            "width": w,
            "height": h,
            "focal_mm": model.focal_mm,
            "sensor_width_mm": model.sensor_width_mm,
        }
    )


def resolve_camera(spec: dict[str, Any] | None, camera_model: str | None) -> Intrinsics | None:
    """Intrinsics from a request's camera object (which may name a `model`), else the table."""
    if spec:
        if "model" in spec and not any(
            k in spec for k in ("fx", "hfov_deg", "focal_mm", "focal35_mm")
        ):
            model = known_model(str(spec["model"]))
            if model is None:
                raise CameraSpecError(
                    f"camera.model {spec['model']!r} is not in the table ({', '.join(CAMERAS)}); "
                    "give hfov_deg, focal_mm + sensor_width_mm or focal35_mm instead"
                )
            return intrinsics_for(model, spec.get("width"), spec.get("height"))
        return from_spec(spec)
    model = known_model(camera_model)
    return intrinsics_for(model) if model else None
