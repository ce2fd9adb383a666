"""Camera poses from a flight's samples: which altitude, which angles, where the ground is."""

from __future__ import annotations

import numpy as np

from app.geometry.projection import Poses
from app.geometry.trajectory import speeds_and_headings

DEFAULT_PITCH = -90.0  # a file without gimbal pitch is taken to look straight down


def ground_elevation(samples: dict[str, np.ndarray], takeoff_elevation: float | None) -> float:
    """Ground height: the given take-off elevation, else what MSL minus take-off altitudes say."""
    if takeoff_elevation is not None:
        return float(takeoff_elevation)
    difference = samples["alt_msl"] - samples["alt_takeoff"]
    difference = difference[np.isfinite(difference)]
    return float(np.median(difference)) if difference.size else 0.0


def poses_from_samples(
    samples: dict[str, np.ndarray], *, reference: str, takeoff_elevation: float | None
) -> Poses:
    """Poses of every sample: gimbal angles first, then the aircraft's, then the track's.

    `z` of a sample is its altitude in the flight's reference; heights are made comparable
    with the ground by adding the ground elevation to `agl` and `takeoff` altitudes.
    """
    ground = ground_elevation(samples, takeoff_elevation)
    height = samples["z"] + (ground if reference in ("agl", "takeoff") else 0.0)
    _, heading, _ = speeds_and_headings(samples["t"], samples["lon"], samples["lat"])
    heading = np.where(np.isfinite(heading), heading, 0.0)
    yaw = np.where(
        np.isfinite(samples["gimbal_yaw"]),
        samples["gimbal_yaw"],
        np.where(np.isfinite(samples["yaw"]), samples["yaw"], heading),
    )
    pitch = np.where(np.isfinite(samples["gimbal_pitch"]), samples["gimbal_pitch"], DEFAULT_PITCH)
    roll = np.where(np.isfinite(samples["gimbal_roll"]), samples["gimbal_roll"], 0.0)
    return Poses(
        lon=samples["lon"],
        lat=samples["lat"],
        height=height,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        ground=np.full(samples["t"].size, ground),
        zoom=samples.get("zoom"),
    )
