"""Trajectory math: interpolation, speeds and headings, simplification."""

from __future__ import annotations

import numpy as np

from app.geometry.frames import WGS84, LocalFrame


def shortest_arc_lerp(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Interpolate angles in degrees along the shortest arc; result in [0, 360)."""
    delta = (np.asarray(b) - np.asarray(a) + 180.0) % 360.0 - 180.0
    return (np.asarray(a) + w * delta) % 360.0


def bracket(t: np.ndarray, at: float) -> tuple[int, int, float]:
    """Indices of the samples around `at` and the weight of the second (t must be sorted)."""
    j = int(np.searchsorted(t, at, side="right"))
    if j <= 0:
        return 0, 0, 0.0
    if j >= t.size:
        return t.size - 1, t.size - 1, 0.0
    i = j - 1
    span = t[j] - t[i]
    return i, j, float((at - t[i]) / span) if span > 0 else 0.0


def interpolate_position(
    lon: tuple[float, float], lat: tuple[float, float], alt: tuple[float, float], w: float
) -> tuple[float, float, float]:
    """Linear interpolation between two positions in a metric (ENU) frame."""
    if w == 0.0:
        return lon[0], lat[0], alt[0]
    frame = LocalFrame(lon[0], lat[0], alt[0] if np.isfinite(alt[0]) else 0.0)
    h = np.array([alt[0], alt[1]], dtype=float)
    h = np.where(np.isfinite(h), h, 0.0)
    enu = frame.to_enu(np.array(lon), np.array(lat), h)
    point = enu[0] + w * (enu[1] - enu[0])
    out_lon, out_lat, out_h = frame.to_geodetic(point)
    altitude = float(out_h) if np.isfinite(alt).all() else float("nan")
    return float(out_lon), float(out_lat), altitude


def speeds_and_headings(
    t: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample ground speed (m/s), heading of travel (deg from north) and step distance (m).

    Speed and heading at sample i describe the move from i-1 to i (the first sample takes the
    second's); geodesic on WGS84. A sample with no movement keeps the previous heading.
    """
    n = t.size
    if n < 2:
        return np.zeros(n), np.full(n, np.nan), np.zeros(n)
    azimuth, _, distance = WGS84.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    azimuth = np.asarray(azimuth) % 360.0
    distance = np.asarray(distance)
    dt = np.diff(t)
    speed = np.divide(distance, dt, out=np.zeros_like(distance), where=dt > 0)
    heading = np.where(distance > 1e-3, azimuth, np.nan)
    # carry the last known heading through stops
    valid = np.isfinite(heading)
    if valid.any():
        index = np.where(valid, np.arange(heading.size), 0)
        np.maximum.accumulate(index, out=index)
        first = np.flatnonzero(valid)[0]
        heading = np.where(np.arange(heading.size) >= first, heading[index], heading[first])
    return (
        np.concatenate(([speed[0]], speed)),
        np.concatenate(([heading[0]], heading)),
        np.concatenate(([0.0], distance)),
    )


def per_second(t: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Times at whole seconds from the first t (and the last t), and the columns
    interpolated there."""
    grid = np.arange(float(t[0]), float(t[-1]) + 1e-9, 1.0)
    if grid[-1] < t[-1]:
        grid = np.append(grid, t[-1])
    return (grid, *(np.interp(grid, t, c) for c in columns))


def simplify_indices(xy: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices kept by Ramer–Douglas–Peucker on (n, 2) metric coordinates."""
    n = xy.shape[0]
    if n <= 2 or tolerance <= 0:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        start, end = stack.pop()
        if end - start < 2:
            continue
        a, b = xy[start], xy[end]
        segment = xy[start + 1 : end]
        ab = b - a
        length = np.hypot(*ab)
        if length == 0:
            distance = np.hypot(*(segment - a).T)
        else:
            distance = np.abs(ab[0] * (segment[:, 1] - a[1]) - ab[1] * (segment[:, 0] - a[0]))
            distance /= length
        far = int(np.argmax(distance))
        if distance[far] > tolerance:
            middle = start + 1 + far
            keep[middle] = True
            stack.append((start, middle))
            stack.append((middle, end))
    return np.flatnonzero(keep)


ANGLES = ("yaw", "gimbal_yaw", "roll", "pitch", "gimbal_pitch", "gimbal_roll")
HEADINGS = ("yaw", "gimbal_yaw")  # wrap at 360; the others are signed and interpolate linearly


def interpolate_pose(pair: dict[str, np.ndarray], at: float) -> dict[str, float]:
    """The pose at `at` from the samples around it (columns of length 1 or 2).

    Position moves linearly in a local metric frame; headings along the shortest arc; every
    other value linearly. NaN stays NaN (a value the file did not have).
    """
    t = pair["t"]
    if t.size == 1 or at <= t[0]:
        return {name: float(values[0]) for name, values in pair.items()} | {"t": float(at)}
    w = float((at - t[0]) / (t[1] - t[0])) if t[1] > t[0] else 0.0
    lon, lat, z = interpolate_position(
        (pair["lon"][0], pair["lon"][1]),
        (pair["lat"][0], pair["lat"][1]),
        (pair["z"][0], pair["z"][1]),
        w,
    )
    pose: dict[str, float] = {"t": float(at), "lon": lon, "lat": lat, "z": z}
    for name, values in pair.items():
        if name in pose:
            continue
        if name in HEADINGS:
            pose[name] = float(shortest_arc_lerp(values[0], values[1], w))
        elif name == "frame":
            pose[name] = float(values[0] if w < 0.5 else values[1])
        else:
            pose[name] = float(values[0] + w * (values[1] - values[0]))
    return pose
