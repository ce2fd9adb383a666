"""Synthetic flights whose truth is known by construction, written as DJI-style SRT.

Paths are built in a local ENU frame (metres east/north of an origin) and converted to
WGS84 with pyproj, so the demo, the tests and the benchmarks exercise the real parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from pyproj import Transformer


@dataclass
class SyntheticFlight:
    """Per-frame truth: times, positions and attitudes of one flight."""

    t: np.ndarray  # seconds from the first frame
    lon: np.ndarray
    lat: np.ndarray
    alt_takeoff: np.ndarray  # metres above the take-off point
    yaw: np.ndarray  # aircraft heading, degrees clockwise from north
    gimbal_yaw: np.ndarray
    gimbal_pitch: np.ndarray  # -90 = nadir
    start: datetime
    takeoff_msl: float = 100.0
    focal35_mm: float = 24.0

    def __len__(self) -> int:
        return int(self.t.size)


def enu_to_lonlat(
    east: np.ndarray, north: np.ndarray, origin_lon: float, origin_lat: float
) -> tuple[np.ndarray, np.ndarray]:
    """Metres east/north of an origin to lon/lat (a transverse Mercator centred on it)."""
    local = f"+proj=tmerc +lat_0={origin_lat} +lon_0={origin_lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
    to_wgs84 = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(east, north)
    return np.asarray(lon), np.asarray(lat)


def heading_of(east: np.ndarray, north: np.ndarray) -> np.ndarray:
    """Direction of travel in degrees clockwise from north, per sample."""
    d_east = np.gradient(east) if east.size > 1 else np.zeros(1)
    d_north = np.gradient(north) if north.size > 1 else np.zeros(1)
    return np.degrees(np.arctan2(d_east, d_north)) % 360.0


def from_enu_path(
    east: np.ndarray,
    north: np.ndarray,
    *,
    origin: tuple[float, float],
    fps: float,
    altitude: float | np.ndarray = 80.0,
    gimbal_pitch: float | np.ndarray = -90.0,
    gimbal_yaw: np.ndarray | None = None,
    start: datetime | None = None,
) -> SyntheticFlight:
    """A flight along an ENU path sampled at `fps`, camera looking along the heading."""
    east = np.asarray(east, dtype=float)
    north = np.asarray(north, dtype=float)
    lon, lat = enu_to_lonlat(east, north, *origin)
    yaw = heading_of(east, north)
    n = east.size
    return SyntheticFlight(
        t=np.arange(n) / fps,
        lon=lon,
        lat=lat,
        alt_takeoff=np.broadcast_to(np.asarray(altitude, dtype=float), (n,)).copy(),
        yaw=yaw,
        gimbal_yaw=yaw.copy() if gimbal_yaw is None else np.asarray(gimbal_yaw, dtype=float),
        gimbal_pitch=np.broadcast_to(np.asarray(gimbal_pitch, dtype=float), (n,)).copy(),
        start=start or datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
    )


def lawnmower(
    origin: tuple[float, float],
    width: float,
    height: float,
    spacing: float,
    speed: float,
    fps: float,
) -> SyntheticFlight:
    """A survey: parallel north–south legs `spacing` apart, nadir camera."""
    corners_e, corners_n = [], []
    for leg, east in enumerate(np.arange(-width / 2, width / 2 + 1e-9, spacing)):
        ends = (-height / 2, height / 2) if leg % 2 == 0 else (height / 2, -height / 2)
        corners_e += [east, east]
        corners_n += list(ends)
    east, north = _resample(np.array(corners_e), np.array(corners_n), speed / fps)
    return from_enu_path(east, north, origin=origin, fps=fps, altitude=80.0, gimbal_pitch=-90.0)


def orbit(
    origin: tuple[float, float], radius: float, laps: float, speed: float, fps: float
) -> SyntheticFlight:
    """A counter-clockwise circle around the origin, camera pitched down at the centre."""
    n = max(2, int(2 * np.pi * radius * laps / speed * fps))
    angle = np.linspace(0, 2 * np.pi * laps, n, endpoint=False)
    east, north = radius * np.cos(angle), radius * np.sin(angle)
    altitude = 60.0
    look = np.degrees(np.arctan2(-east, -north)) % 360.0  # towards the centre
    pitch = -np.degrees(np.arctan2(altitude, radius))
    return from_enu_path(
        east, north, origin=origin, fps=fps, altitude=altitude, gimbal_pitch=pitch, gimbal_yaw=look
    )


def transect(
    origin: tuple[float, float], legs: list[tuple[float, float]], speed: float, fps: float
) -> SyntheticFlight:
    """A polyline of (heading degrees, length metres) legs, camera oblique ahead."""
    east, north = [0.0], [0.0]
    for heading, length in legs:
        east.append(east[-1] + length * np.sin(np.radians(heading)))
        north.append(north[-1] + length * np.cos(np.radians(heading)))
    e, n = _resample(np.array(east), np.array(north), speed / fps)
    return from_enu_path(e, n, origin=origin, fps=fps, altitude=100.0, gimbal_pitch=-45.0)


def _resample(east: np.ndarray, north: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every `step` metres along a polyline."""
    seg = np.hypot(np.diff(east), np.diff(north))
    along = np.concatenate(([0.0], np.cumsum(seg)))
    stations = np.arange(0.0, along[-1] + 1e-9, step)
    return np.interp(stations, along, east), np.interp(stations, along, north)


def to_srt(flight: SyntheticFlight) -> str:
    """The flight as a modern DJI SRT (FrameCnt, date line, bracketed telemetry)."""
    lines: list[str] = []
    start = flight.start.timestamp()
    frame_ms = np.round(flight.t * 1000).astype(np.int64)
    next_ms = np.append(
        frame_ms[1:], frame_ms[-1] + (frame_ms[-1] - frame_ms[-2] if len(flight) > 1 else 33)
    )
    for i in range(len(flight)):
        wall = datetime.fromtimestamp(start + flight.t[i], UTC)
        lines.append(
            f"{i + 1}\n{_cue_time(frame_ms[i])} --> {_cue_time(next_ms[i])}\n"
            f'<font size="28">FrameCnt: {i + 1}, DiffTime: {next_ms[i] - frame_ms[i]}ms\n'
            f"{wall:%Y-%m-%d %H:%M:%S}.{wall.microsecond // 1000:03d}\n"
            f"[iso: 100] [shutter: 1/500.0] [fnum: 1.7] [ev: 0] [color_md: default] "
            f"[focal_len: {flight.focal35_mm:.2f}] [dzoom_ratio: 1.00], "
            f"[latitude: {flight.lat[i]:.7f}] [longitude: {flight.lon[i]:.7f}] "
            f"[rel_alt: {flight.alt_takeoff[i]:.3f} "
            f"abs_alt: {flight.alt_takeoff[i] + flight.takeoff_msl:.3f}] "
            f"[gb_yaw: {_signed(flight.gimbal_yaw[i])} gb_pitch: {flight.gimbal_pitch[i]:.1f} "
            f"gb_roll: 0.0] </font>\n"
        )
    return "\n".join(lines)


def _signed(yaw: float) -> str:
    """DJI writes yaw in (-180, 180]."""
    value = (yaw + 180.0) % 360.0 - 180.0
    return f"{value:.1f}"


def _cue_time(ms: int) -> str:
    hours, rest = divmod(int(ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{millis:03d}"
