"""Flight events read from the track: turns, stops, climbs and descents.

The track is first brought to one sample per second in a local metric frame, so 30 fps
telemetry and 1 Hz logs give the same events. Turns are found on the path itself, not on time:
the path is resampled every `step` metres, the heading of travel is unwrapped and smoothed,
and runs where it keeps changing one way (curvature over `min_curvature` degrees per metre)
become one turn when they add up to at least `min_turn` degrees. Hovering does not add
fake turns: points closer than `min_move` metres to the last kept one are dropped first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.geometry.frames import LocalFrame
from app.geometry.trajectory import per_second, simplify_indices


@dataclass(frozen=True)
class EventOptions:
    """Thresholds of what counts as an event."""

    min_turn: float = 30.0  # degrees
    min_curvature: float = 0.1  # degrees per metre (a radius under ~570 m)
    step: float = 2.0  # metres between resampled path points
    tolerance: float = 2.0  # metres: wiggles smaller than this are GPS noise (Douglas–Peucker)
    smooth: float = 30.0  # metres of heading smoothing
    merge_gap: float = 40.0  # metres between two same-way runs that make one turn
    min_move: float = 1.0  # metres: closer points are the drone standing still
    stop_speed: float = 0.5  # m/s
    min_stop: float = 3.0  # seconds
    climb_rate: float = 0.5  # m/s
    min_climb: float = 5.0  # metres


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end exclusive) of each run of True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _metric_per_second(t: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, ...]:
    """Whole-second times, lon, lat, and east, north metres from the first point."""
    grid, lon1, lat1 = per_second(t, lon, lat)
    enu = LocalFrame(float(lon1[0]), float(lat1[0])).to_enu(lon1, lat1, 0.0)
    return grid, lon1, lat1, enu[:, 0], enu[:, 1]


def turns(
    t: np.ndarray, lon: np.ndarray, lat: np.ndarray, options: EventOptions = EventOptions()
) -> list[dict]:
    """Left and right turns with their signed angle (positive = right, clockwise)."""
    if t.size < 3:
        return []
    grid, _, _, x, y = _metric_per_second(t, lon, lat)
    keep = [0]
    for i in range(1, x.size):  # drop standing still (a short loop over 1 Hz points)
        if np.hypot(x[i] - x[keep[-1]], y[i] - y[keep[-1]]) >= options.min_move:
            keep.append(i)
    index = np.asarray(keep)
    x, y, tk = x[index], y[index], grid[index]
    corners = simplify_indices(np.stack([x, y], axis=-1), options.tolerance)
    x, y, tk = x[corners], y[corners], tk[corners]
    if x.size < 3:
        return []
    s = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
    if s[-1] < 3 * options.step:
        return []
    ss = np.arange(0.0, s[-1], options.step)
    xs, ys, ts = np.interp(ss, s, x), np.interp(ss, s, y), np.interp(ss, s, tk)
    heading = np.unwrap(np.arctan2(np.diff(xs), np.diff(ys)))  # radians, clockwise from north
    width = max(1, round(options.smooth / options.step))
    if heading.size > width:
        kernel = np.ones(width) / width
        padded = np.concatenate((np.full(width, heading[0]), heading, np.full(width, heading[-1])))
        heading = np.convolve(padded, kernel, mode="same")[width:-width]
    rate = np.degrees(np.diff(heading))  # degrees per step
    threshold = options.min_curvature * options.step
    runs: list[list[int]] = []
    for sign in (1.0, -1.0):
        for start, end in _runs(sign * rate > threshold):
            runs.append([start, end, int(sign)])
    runs.sort()
    merged: list[list[int]] = []
    gap = options.merge_gap / options.step
    for run in runs:
        if merged and merged[-1][2] == run[2] and run[0] - merged[-1][1] <= gap:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    events = []
    for start, end, _ in merged:
        angle = float(rate[start:end].sum())
        if abs(angle) < options.min_turn:
            continue
        middle = float(ts[(start + end) // 2 + 1])
        events.append(
            {
                "type": "turn",
                "direction": "right" if angle > 0 else "left",
                "angle_deg": round(angle, 1),
                "t_start": float(ts[start]),
                "t_end": float(ts[min(end + 1, ts.size - 1)]),
                "t": middle,
                "lon": float(np.interp(middle, t, lon)),  # in the flight's coordinates
                "lat": float(np.interp(middle, t, lat)),
            }
        )
    return events


def stops(
    t: np.ndarray, lon: np.ndarray, lat: np.ndarray, options: EventOptions = EventOptions()
) -> list[dict]:
    """Spans of at least `min_stop` seconds below `stop_speed`."""
    if t.size < 2:
        return []
    grid, lon1, lat1, x, y = _metric_per_second(t, lon, lat)
    speed = np.hypot(np.gradient(x, grid), np.gradient(y, grid)) if grid.size > 1 else np.zeros(1)
    events = []
    for start, end in _runs(speed < options.stop_speed):
        duration = float(grid[end - 1] - grid[start])
        if duration >= options.min_stop:
            middle = (start + end - 1) // 2
            events.append(
                {
                    "type": "stop",
                    "t_start": float(grid[start]),
                    "t_end": float(grid[end - 1]),
                    "duration_s": round(duration, 1),
                    "lon": float(lon1[middle]),
                    "lat": float(lat1[middle]),
                }
            )
    return events


def vertical_moves(
    t: np.ndarray, z: np.ndarray, options: EventOptions = EventOptions()
) -> list[dict]:
    """Climbs and descents: runs faster than `climb_rate` that gain or lose `min_climb` metres."""
    finite = np.isfinite(z)
    if finite.sum() < 2:
        return []
    grid, z1 = per_second(t[finite], z[finite])
    if grid.size < 2:
        return []
    rate = np.gradient(z1, grid)
    events = []
    for sign, kind in ((1.0, "climb"), (-1.0, "descent")):
        for start, end in _runs(sign * rate > options.climb_rate):
            # the knees of the move have half the rate: take them in while it goes on
            if start > 0 and sign * (z1[start] - z1[start - 1]) > 0:
                start -= 1
            if end < z1.size and sign * (z1[end] - z1[end - 1]) > 0:
                end += 1
            change = float(z1[end - 1] - z1[start])
            if abs(change) >= options.min_climb:
                events.append(
                    {
                        "type": kind,
                        "t_start": float(grid[start]),
                        "t_end": float(grid[end - 1]),
                        "change_m": round(change, 1),
                    }
                )
    return sorted(events, key=lambda e: e["t_start"])
