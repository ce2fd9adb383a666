"""Words for where a landmark is from the drone: map direction, clock, side, distance band.

Bearings are degrees clockwise from true north; a relative bearing is the bearing minus the
heading of travel, in [0, 360). Each classifier also says how far the value is from the nearest
boundary between two answers, which question seeds use to skip ambiguous cases.
"""

from __future__ import annotations

import numpy as np

COMPASS8 = (
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
)
DISTANCE_BANDS = (0.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0)  # metres; last band is open


def angle_difference(a: float, b: float) -> float:
    """Signed smallest difference a - b in degrees, in [-180, 180)."""
    return (a - b + 180.0) % 360.0 - 180.0


def compass8(bearing: float) -> tuple[str, float]:
    """The 8-way direction of a bearing and the degrees to the nearest sector edge."""
    sector = int(((bearing % 360.0) + 22.5) // 45.0) % 8
    centre = sector * 45.0
    return COMPASS8[sector], 22.5 - abs(angle_difference(bearing, centre))


def clock(relative: float) -> tuple[int, float]:
    """Clock position (1..12, 12 = straight ahead) and the degrees to the nearest half hour."""
    hour = round((relative % 360.0) / 30.0) % 12
    centre = hour * 30.0
    return (hour or 12), 15.0 - abs(angle_difference(relative, centre))


def egocentric_side(relative: float, margin: float = 10.0) -> tuple[str, str]:
    """(ahead | behind | abeam, left | right | on_track) for a relative bearing.

    Within `margin` degrees of the line across the drone it is abeam; within `margin` of the
    track line it is on the track (neither side).
    """
    r = np.radians(relative % 360.0)
    edge = np.sin(np.radians(margin))
    fore = float(np.cos(r))
    side = float(np.sin(r))
    ahead = "ahead" if fore > edge else "behind" if fore < -edge else "abeam"
    left_right = "right" if side > edge else "left" if side < -edge else "on_track"
    return ahead, left_right


def distance_band(distance: float, bands: tuple[float, ...] = DISTANCE_BANDS) -> tuple[str, float]:
    """The band label ("50-100 m", "over 800 m") and the relative distance to its nearest edge."""
    edges = np.asarray(bands, dtype=float)
    i = int(np.searchsorted(edges, distance, side="right")) - 1
    i = max(i, 0)
    if i == edges.size - 1:
        label = f"over {edges[i]:g} m"
        margin = (distance - edges[i]) / edges[i]
    else:
        label = f"{edges[i]:g}-{edges[i + 1]:g} m"
        lower = (distance - edges[i]) / edges[i] if edges[i] > 0 else np.inf
        margin = min(lower, (edges[i + 1] - distance) / edges[i + 1])
    return label, float(margin)


def band_labels(bands: tuple[float, ...] = DISTANCE_BANDS) -> list[str]:
    """Every band label in order."""
    return [distance_band(edge + 1e-6, bands)[0] for edge in bands]


def trend(times: np.ndarray, distances: np.ndarray, at: float, threshold: float) -> dict:
    """Approaching or receding: the change of distance over the window around `at`.

    The distance change from the first to the last instant decides (more than `threshold`
    metres either way); `monotonic` says whether every step went the same way, so a drone
    that passes the landmark inside the window is recognisable.
    """
    if times.size < 2:
        return {"motion": "steady", "change_m": 0.0, "rate_m_s": 0.0, "monotonic": True}
    change = float(distances[-1] - distances[0])
    span = float(times[-1] - times[0])
    steps = np.diff(distances)
    monotonic = bool((steps <= 1e-6).all() or (steps >= -1e-6).all())
    motion = (
        "approaching" if change < -threshold else "receding" if change > threshold else "steady"
    )
    return {
        "motion": motion,
        "change_m": change,
        "rate_m_s": change / span if span > 0 else 0.0,
        "monotonic": monotonic,
        "window": [float(times[0]), float(times[-1])],
        "at": at,
    }
