"""Where landmarks are from a flying drone, and what happened along a flight.

Both queries go through indexes: the drone's samples through the (flight_id, t) key, the
landmarks through their primary key or, for the order they came into view, the GiST index
on `features.geom` probed by each stored footprint.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, text

from app.db.flights import load_samples
from app.errors import InvalidInput, NotFound
from app.geometry.events import EventOptions, stops, turns, vertical_moves
from app.geometry.frames import WGS84
from app.geometry.relations import (
    clock,
    compass8,
    distance_band,
    egocentric_side,
    trend,
)

HEADING_SPAN_S = 1.0  # the heading of travel at t is the move from t - 1 s to t + 1 s
MIN_HEADING_MOVE_M = 1.0  # below this the drone hovers and its nose gives the heading

FEATURES_SQL = (
    "SELECT f.id, f.class, f.name, ST_X(c.p) AS lon, ST_Y(c.p) AS lat, "
    "ST_Distance(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, f.geom::geography) "
    "AS distance, ST_AsBinary(f.geom) AS wkb "
    "FROM features f CROSS JOIN LATERAL (SELECT ST_PointOnSurface(f.geom) AS p) c "
    "WHERE f.id = ANY(:ids)"
)
ORDER_SQL = (
    "SELECT f.id, f.class, f.name, min(p.t) AS first_seen, max(p.t) AS last_seen, "
    "count(*) AS frames FROM footprints p "
    "JOIN features f ON f.geom && p.polygon AND ST_Intersects(f.geom, p.polygon) "
    "WHERE p.flight_id = :flight {condition} "
    "GROUP BY f.id, f.class, f.name ORDER BY first_seen, f.id LIMIT :limit"
)


def heading_of_travel(window: dict[str, np.ndarray], t: float) -> tuple[float, str]:
    """The direction the drone moves at t (degrees from north) and where it came from:
    the track from t - 1 s to t + 1 s, or the aircraft's yaw when it hovers."""
    times, lon, lat, yaw = (window[name] for name in ("t", "lon", "lat", "yaw"))
    before = max(t - HEADING_SPAN_S, float(times[0]))
    after = min(t + HEADING_SPAN_S, float(times[-1]))
    lon0, lat0 = np.interp(before, times, lon), np.interp(before, times, lat)
    lon1, lat1 = np.interp(after, times, lon), np.interp(after, times, lat)
    azimuth, _, moved = WGS84.inv(lon0, lat0, lon1, lat1)
    if moved >= MIN_HEADING_MOVE_M:
        return float(azimuth) % 360.0, "track"
    nose = float(np.interp(t, times, yaw)) if np.isfinite(yaw).all() else float("nan")
    return (nose % 360.0, "aircraft_yaw") if np.isfinite(nose) else (float("nan"), "none")


def _angular_extent(lon: float, lat: float, geometry: Any, bearing: float) -> list[float]:
    """How far (degrees, left and right of `bearing`) the landmark spreads as seen from above
    the drone's ground point."""
    points = shapely.get_coordinates(geometry)
    if points.shape[0] <= 1:
        return [0.0, 0.0]
    azimuth, _, _ = WGS84.inv(
        np.full(points.shape[0], lon), np.full(points.shape[0], lat), points[:, 0], points[:, 1]
    )
    offsets = (np.asarray(azimuth) - bearing + 180.0) % 360.0 - 180.0
    return [float(offsets.min()), float(offsets.max())]


def relations(
    conn: Connection,
    flight_id: int,
    t: float,
    feature_ids: list[int],
    *,
    window: float = 5.0,
) -> list[dict[str, Any]]:
    """The relation of each landmark to the drone at t (see `relation` for the fields)."""
    samples = load_samples(conn, flight_id, start=t - window, end=t + window)
    if samples["t"].size == 0:
        raise InvalidInput(f"flight {flight_id} has no samples around t={t:g}")
    times, lon_s, lat_s = samples["t"], samples["lon"], samples["lat"]
    lon, lat = float(np.interp(t, times, lon_s)), float(np.interp(t, times, lat_s))
    heading, heading_source = heading_of_travel(samples, t)
    rows = conn.execute(
        text(FEATURES_SQL), {"ids": list(feature_ids), "lon": lon, "lat": lat}
    ).all()
    found = {row.id: row for row in rows}
    missing = [i for i in feature_ids if i not in found]
    if missing:
        raise NotFound(f"feature {missing[0]} not found")
    out = []
    for feature_id in feature_ids:
        row = found[feature_id]
        bearing, _, centre = WGS84.inv(lon, lat, row.lon, row.lat)
        bearing = float(bearing) % 360.0
        _, _, series = WGS84.inv(
            lon_s, lat_s, np.full(times.size, row.lon), np.full(times.size, row.lat)
        )
        direction, direction_margin = compass8(bearing)
        facts: dict[str, Any] = {
            "flight_id": flight_id,
            "t": t,
            "drone": {"lon": lon, "lat": lat},
            "feature": {"id": row.id, "class": row[1], "name": row.name},
            "feature_point": {"lon": row.lon, "lat": row.lat},
            "distance_m": round(float(row.distance), 2),
            "centre_distance_m": round(float(centre), 2),
            "bearing_deg": round(bearing, 2),
            "angular_extent_deg": _angular_extent(
                lon, lat, shapely.from_wkb(bytes(row.wkb)), bearing
            ),
            "direction": direction,
            "direction_margin_deg": round(direction_margin, 2),
            "distance_band": distance_band(float(row.distance))[0],
            "distance_band_margin": round(distance_band(float(row.distance))[1], 3),
            "heading_deg": None if not np.isfinite(heading) else round(heading, 2),
            "heading_source": heading_source,
        }
        if np.isfinite(heading):
            relative = (bearing - heading) % 360.0
            hour, clock_margin = clock(relative)
            ahead, side = egocentric_side(relative)
            facts |= {
                "relative_bearing_deg": round(relative, 2),
                "clock": hour,
                "clock_margin_deg": round(clock_margin, 2),
                "ahead_behind": ahead,
                "left_right": side,
            }
        else:
            facts |= dict.fromkeys(
                ("relative_bearing_deg", "clock", "clock_margin_deg", "ahead_behind", "left_right")
            )
        threshold = max(2.0, 0.05 * float(centre))
        facts["motion"] = trend(times, np.asarray(series), t, threshold)
        out.append(facts)
    return out


def landmark_order(
    conn: Connection, flight_id: int, feature_class: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Landmarks in the order they came into view (first stored footprint meeting them)."""
    condition = "AND f.class = :class" if feature_class else ""
    rows = conn.execute(
        text(ORDER_SQL.format(condition=condition)),
        {"flight": flight_id, "class": feature_class, "limit": limit},
    ).all()
    return [
        {
            "id": r.id,
            "class": r[1],
            "name": r.name,
            "first_seen": float(r.first_seen),
            "last_seen": float(r.last_seen),
            "frames": int(r.frames),
        }
        for r in rows
    ]


def flight_events(
    samples: dict[str, np.ndarray], options: EventOptions = EventOptions()
) -> dict[str, list[dict[str, Any]]]:
    """Turns, stops, climbs and descents of a flight's samples."""
    t, lon, lat = samples["t"], samples["lon"], samples["lat"]
    return {
        "turns": turns(t, lon, lat, options),
        "stops": stops(t, lon, lat, options),
        "climbs": vertical_moves(t, samples["z"], options),
    }
