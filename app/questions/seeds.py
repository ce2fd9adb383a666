"""Question seeds for the twelve cross-view tasks.

A seed is a JSON record: the task, the instant or clip it is about, the facts read from the
database, the correct answer, distractors chosen to be plausible (adjacent directions, nearby
landmarks, the flight's own footprints at other instants, mirrored tracks...) and the imagery
it needs (a satellite crop with marks to draw, and frame instants).

Everything random comes from one `numpy.random.Generator` seeded by (seed, flight, task), so a
given seed always gives the same records. The answer is computed from the facts before the
options are shuffled, so it never depends on where the distractors land. A candidate whose
answer would be ambiguous (a landmark on a sector edge, two candidate tracks too alike) is not
emitted: `Skip` carries the reason and the caller counts them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import version
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, mapping
from sqlalchemy import Connection, text

from app.db import flights as store
from app.db.features import features_in, features_near
from app.db.footprints import flight_camera, flight_poses
from app.db.relations import flight_events, relations
from app.geometry.frames import WGS84, LocalFrame
from app.geometry.projection import footprints
from app.geometry.relations import COMPASS8, band_labels, distance_band
from app.geometry.trajectory import per_second
from app.questions.crops import GRID3, QUADRANTS, Crop

TASKS: dict[int, tuple[str, str]] = {
    1: ("count_in_view", "perception"),
    2: ("landmark_in_view", "perception"),
    3: ("drone_region", "localization"),
    4: ("footprint_box", "localization"),
    5: ("start_end_cell", "localization"),
    6: ("map_direction", "relation"),
    7: ("clock_position", "relation"),
    8: ("distance_band", "relation"),
    9: ("approach_recede", "relation"),
    10: ("flown_track", "reasoning"),
    11: ("turn_sequence", "reasoning"),
    12: ("landmark_order", "reasoning"),
}
VERSION = version("skyspace")
TASK_NUMBERS = {name: number for number, (name, _) in TASKS.items()}
LINEAR_CLASSES = ("road", "water")  # long features: poor "landmarks" to point at
MAX_LANDMARK_M = 150.0  # landmarks bigger than this (sqrt of area) are not pointed at
CLIP_S = 60.0
LETTERS = "ABCD"
WHOLE, NEARLY_WHOLE = 0.98, 0.75  # fraction in view: "fully in view", and the doubtful range


class Skip(Exception):
    """This candidate would make an ambiguous or impossible question."""


class Unavailable(Skip):
    """No candidate of this flight can make this task (no point trying again)."""


def task_number(task: str | int) -> int:
    """A task given by number (1..12) or name."""
    if isinstance(task, int) or str(task).isdigit():
        number = int(task)
        if number in TASKS:
            return number
    elif task in TASK_NUMBERS:
        return TASK_NUMBERS[str(task)]
    names = ", ".join(f"{n} ({name})" for n, (name, _) in TASKS.items())
    raise ValueError(f"unknown task {task!r}: one of {names}")


def landmark_label(row: Any) -> str:
    """How a question names a landmark."""
    return row.name or f"{row[1]} {row.id}"


def _ring(polygon: Polygon) -> list[list[float]]:
    return [[round(x, 7), round(y, 7)] for x, y in polygon.exterior.coords]


@dataclass
class Draft:
    """A seed before its options are shuffled: options[0] is the answer."""

    facts: dict[str, Any]
    options: list[Any]
    imagery: dict[str, Any]
    t: float | None = None
    clip: tuple[float, float] | None = None
    marks: list[dict[str, Any]] | None = None  # "option": index into options, or absent
    lettered: bool = False  # options are the marks on the crop: answered by letter


class FlightSeeds:
    """One flight's poses, footprints (one per second) and events, loaded once."""

    def __init__(self, conn: Connection, flight_id: int, max_range: float) -> None:
        self.conn = conn
        self.flight_id = flight_id
        self.row = store.get_flight(conn, flight_id)
        self.camera = flight_camera(self.row)
        self.samples, self.poses = flight_poses(conn, self.row)
        t = self.samples["t"]
        if t.size < 2:
            raise Skip("flight has fewer than two samples")
        grid = np.arange(float(t[0]) + 1.0, float(t[-1]) - 1.0 + 1e-9, 1.0)
        self.index = np.unique(np.clip(np.searchsorted(t, grid), 0, t.size - 1))
        self.t = t[self.index]
        self.prints = footprints(self.camera, self.poses.take(self.index), max_range)
        self.valid = np.flatnonzero(self.prints.valid)

    # --- instants and what is seen -------------------------------------------------------

    def instant(self, rng: np.random.Generator, at: float | None) -> int:
        """A one-per-second instant that sees ground: the one nearest `at`, else random."""
        if self.t.size == 0:
            raise Unavailable("the flight is shorter than 2 s")
        if self.valid.size == 0:
            raise Unavailable("no frame of this flight sees the ground")
        if at is None:
            return int(rng.choice(self.valid))
        k = int(np.argmin(np.abs(self.t - at)))
        if not self.prints.valid[k]:
            raise Skip("the frame at t sees no ground")
        return k

    def footprint(self, k: int) -> Polygon:
        return Polygon(np.stack([self.prints.lon[k], self.prints.lat[k]], -1))

    def drone(self, k: int) -> tuple[float, float]:
        i = self.index[k]
        return float(self.samples["lon"][i]), float(self.samples["lat"][i])

    def visible(self, k: int) -> list[Any]:
        """Landmarks meeting the footprint at instant k, with the fraction in view."""
        return features_in(self.conn, shapely.to_wkb(self.footprint(k)), None)

    def footprint_size_m(self, k: int) -> float:
        lon, lat = self.prints.lon[k], self.prints.lat[k]
        _, _, diagonal = WGS84.inv(lon.min(), lat.min(), lon.max(), lat.max())
        return float(diagonal)

    def landmarks_near(self, lon: float, lat: float, radius: float) -> list[Any]:
        """Compact landmarks (not roads or rivers, not huge) within `radius` m of a point."""
        rows = features_near(self.conn, lon, lat, radius, limit=400)
        return [r for r in rows if r[1] not in LINEAR_CLASSES and float(r.size_m) <= MAX_LANDMARK_M]

    @cached_property
    def per_second(self) -> dict[str, np.ndarray]:
        """t, lon, lat once per second over the whole flight."""
        grid, lon, lat = per_second(self.samples["t"], self.samples["lon"], self.samples["lat"])
        return {"t": grid, "lon": lon, "lat": lat}

    @cached_property
    def events(self) -> dict[str, list[dict[str, Any]]]:
        return flight_events(self.samples)

    def clip(
        self, rng: np.random.Generator, at: float | None, length: float
    ) -> tuple[float, float]:
        """A window of `length` seconds (the whole flight if shorter), around `at` if given."""
        first, last = float(self.samples["t"][0]), float(self.samples["t"][-1])
        if last - first <= length:
            return first, last
        if at is None:
            start = float(rng.uniform(first, last - length))
        else:
            start = min(max(at - length / 2, first), last - length)
        return start, start + length

    def path(self, start: float, end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.per_second
        keep = (p["t"] >= start) & (p["t"] <= end)
        return p["t"][keep], p["lon"][keep], p["lat"][keep]


# --- distractor helpers ---------------------------------------------------------------


def _pick(rng: np.random.Generator, items: list[Any], n: int) -> list[Any]:
    """n items in a random order (all when there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i] for i in rng.choice(len(items), size=n, replace=False)]


def _nearest_others(answer: Any, values: list[Any], n: int = 3) -> list[Any]:
    """The n values after `answer` nearest to it in the list's order (adjacent first)."""
    i = values.index(answer)
    others = sorted((j for j in range(len(values)) if j != i), key=lambda j: (abs(j - i), j))
    return [values[j] for j in others[:n]]


def _feature_mark(row: Any, option: int | None = None, label: str | None = None) -> dict:
    geometry = mapping(shapely.from_wkb(bytes(row.wkb)))
    mark: dict[str, Any] = {"kind": "landmark", "geometry": geometry, "feature_id": row.id}
    if option is not None:
        mark["option"] = option
    if label is not None:
        mark["label"] = label
    return mark


def _feature_points(rows: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate([shapely.get_coordinates(shapely.from_wkb(bytes(r.wkb))) for r in rows])
    return points[:, 0], points[:, 1]


# --- perception -------------------------------------------------------------------------


def count_in_view(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(1) How many landmarks of a class are in view at t."""
    k = fs.instant(rng, at)
    rows = fs.visible(k)
    classes = sorted({r[1] for r in rows if r[1] not in LINEAR_CLASSES})
    if not classes:
        raise Skip("no countable landmark in view")
    feature_class = str(rng.choice(classes))
    of_class = [r for r in rows if r[1] == feature_class]
    if any(NEARLY_WHOLE < float(r.fraction or 0) < WHOLE for r in of_class):
        raise Skip("a landmark is all but whole in view (is it fully in view?)")
    count = sum(1 for r in of_class if float(r.fraction or 0) >= WHOLE)
    if count > 20:
        raise Skip("too many to count")
    near = [count + d for d in (-1, 1, 2, -2, 3) if count + d >= 0]
    distractors = near[:3]
    return Draft(
        facts={
            "class": feature_class,
            "count": count,
            "features": [
                {"id": r.id, "fraction_in_view": round(float(r.fraction or 0), 3)} for r in of_class
            ],
            "footprint": _ring(fs.footprint(k)),
        },
        options=[count, *distractors],
        imagery={"frames": [float(fs.t[k])]},
        t=float(fs.t[k]),
    )


def landmark_in_view(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(2) Which of four nearby landmarks is the one in view at t."""
    k = fs.instant(rng, at)
    footprint = fs.footprint(k)
    seen = {r.id: float(r.fraction or 0) for r in fs.visible(k)}
    size = fs.footprint_size_m(k)
    near = fs.landmarks_near(*fs.drone(k), max(150.0, 2.0 * size))
    inside = [r for r in near if seen.get(r.id, 0) >= 0.95]
    if not inside:
        raise Skip("no whole landmark in view")
    answer = inside[int(rng.integers(len(inside)))]
    clear = footprint.buffer(15.0 / 111_000.0)  # outside by at least ~15 m
    outside = [
        r
        for r in near
        if r.id not in seen
        and r[1] == answer[1]
        and not clear.intersects(shapely.from_wkb(bytes(r.wkb)))
    ]
    if len(outside) < 3:
        raise Skip("fewer than three landmarks of the class near the frame but out of view")
    distractors = _pick(rng, outside[:8], 3)
    chosen = [answer, *distractors]
    lon, lat = _feature_points(chosen)
    crop = Crop.covering(
        np.append(lon, footprint.exterior.xy[0]), np.append(lat, footprint.exterior.xy[1])
    )
    return Draft(
        facts={
            "feature": {"id": answer.id, "class": answer[1], "name": answer.name},
            "fraction_in_view": round(seen[answer.id], 3),
            "distractor_distances_m": [round(float(r.distance), 1) for r in distractors],
            "footprint": _ring(footprint),
        },
        options=[{"id": r.id, "label": landmark_label(r)} for r in chosen],
        lettered=True,
        imagery={"frames": [float(fs.t[k])], "crop": crop.as_json()},
        t=float(fs.t[k]),
        marks=[_feature_mark(r, option=i) for i, r in enumerate(chosen)],
    )


# --- localization -----------------------------------------------------------------------


def drone_region(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(3) Which quarter of a satellite crop holds the drone at t."""
    k = fs.instant(rng, at)
    lon, lat = fs.drone(k)
    side = float(np.clip(2.5 * fs.footprint_size_m(k), 250.0, 2000.0))
    quadrant = int(rng.integers(4))  # the answer is drawn first, so answers are balanced
    dx, dy = rng.uniform(0.1, 0.4, size=2) * side
    east = dx if quadrant in (1, 3) else -dx
    north = -dy if quadrant in (2, 3) else dy
    frame = LocalFrame(lon, lat)
    c_lon, c_lat, _ = frame.to_geodetic(np.array([-east, -north, 0.0]))
    crop = Crop.around(float(c_lon), float(c_lat), side)
    row, col, margin = crop.cell(lon, lat, 2)
    if margin < 0.15:
        raise Skip("drone near the line between two regions")
    answer = QUADRANTS[row * 2 + col]
    options = [answer, *[q for q in QUADRANTS if q != answer]]
    marks = [
        {
            "kind": "region",
            "option": i,
            "geometry": {
                "type": "Polygon",
                "coordinates": [crop.cell_polygon(*divmod(QUADRANTS.index(q), 2), 2)],
            },
        }
        for i, q in enumerate(options)
    ]
    return Draft(
        facts={"drone": {"lon": lon, "lat": lat}, "region": answer, "margin": round(margin, 3)},
        options=[{"region": q} for q in options],
        imagery={"frames": [float(fs.t[k])], "crop": crop.as_json()},
        t=float(fs.t[k]),
        marks=marks,
        lettered=True,
    )


def _iou(a: Polygon, b: Polygon) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def footprint_box(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(4) Which of four outlines on the crop is the frame's footprint at t."""
    k = fs.instant(rng, at)
    truth = fs.footprint(k)
    reach = 3.0 * truth.length / 4  # three footprint widths, in degrees
    others = [
        j for j in fs.valid if j != k and fs.footprint(j).centroid.distance(truth.centroid) < reach
    ]
    order = [others[i] for i in rng.permutation(len(others))] if others else []
    chosen: list[Polygon] = []
    sources: list[str] = []
    for j in order:
        candidate = fs.footprint(j)
        if _iou(candidate, truth) < 0.2 and all(_iou(candidate, c) < 0.5 for c in chosen):
            chosen.append(candidate)
            sources.append(f"footprint at t={fs.t[j]:g}")
        if len(chosen) == 3:
            break
    if len(chosen) < 3:
        raise Skip("fewer than three distinct footprints of this flight nearby")
    polygons = [truth, *chosen]
    lon = np.concatenate([p.exterior.xy[0] for p in polygons])
    lat = np.concatenate([p.exterior.xy[1] for p in polygons])
    crop = Crop.covering(lon, lat)
    return Draft(
        facts={"footprint": _ring(truth), "distractors": sources},
        options=[{"footprint": i} for i in range(4)],
        lettered=True,
        imagery={"frames": [float(fs.t[k])], "crop": crop.as_json()},
        t=float(fs.t[k]),
        marks=[
            {"kind": "box", "option": i, "geometry": mapping(p)} for i, p in enumerate(polygons)
        ],
    )


def start_end_cell(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(5) In which cell of a 3x3 grid over the crop did the flight start (or end)."""
    p = fs.per_second
    crop = Crop.covering(p["lon"], p["lat"], margin=0.1)
    which = "start" if rng.integers(2) == 0 else "end"
    i = 0 if which == "start" else -1
    row, col, margin = crop.cell(float(p["lon"][i]), float(p["lat"][i]), 3)
    if margin < 0.1:
        raise Skip("the point is near a grid line")
    answer = GRID3[row][col]
    o_row, o_col, _ = crop.cell(float(p["lon"][-1 - i]), float(p["lat"][-1 - i]), 3)
    visited = {
        GRID3[r][c]
        for r, c, _ in (
            crop.cell(float(x), float(y), 3) for x, y in zip(p["lon"], p["lat"], strict=True)
        )
    }
    preferred = (
        [GRID3[o_row][o_col]]
        + sorted(visited - {answer})
        + [GRID3[r][c] for r in range(3) for c in range(3) if abs(r - row) + abs(c - col) == 1]
    )
    distractors: list[str] = []
    for cell in preferred:
        if cell != answer and cell not in distractors:
            distractors.append(cell)
    distractors = [distractors[0], *_pick(rng, distractors[1:], 2)]
    t = float(p["t"][i])
    return Draft(
        facts={
            "which": which,
            "point": {"lon": float(p["lon"][i]), "lat": float(p["lat"][i])},
            "cell": answer,
            "margin": round(margin, 3),
        },
        options=[answer, *distractors],
        imagery={"frames": [t], "crop": crop.as_json(), "grid": 3},
        t=t,
    )


# --- relations --------------------------------------------------------------------------


def _relation_candidates(
    fs: FlightSeeds,
    rng: np.random.Generator,
    at: float | None,
) -> tuple[int, list[dict[str, Any]], dict[int, Any]]:
    """Relations of up to eight landmarks near the drone at a random instant."""
    k = fs.instant(rng, at)
    rows = [r for r in fs.landmarks_near(*fs.drone(k), 300.0) if float(r.distance) > 0]
    if not rows:
        raise Skip("no landmark within 300 m")
    rows = _pick(rng, rows, 8)
    facts = relations(fs.conn, fs.flight_id, float(fs.t[k]), [r.id for r in rows])
    return k, facts, {r.id: r for r in rows}


def _relation_draft(
    fs: FlightSeeds,
    k: int,
    fact: dict,
    row: Any,
    options: list[Any],
    frames: list[float] | None = None,
) -> Draft:
    lon, lat = _feature_points([row])
    drone = fact["drone"]
    crop = Crop.covering(np.append(lon, drone["lon"]), np.append(lat, drone["lat"]))
    return Draft(
        facts=fact,
        options=options,
        imagery={"frames": frames or [float(fs.t[k])], "crop": crop.as_json()},
        t=float(fs.t[k]),
        marks=[_feature_mark(row, label="L")],
    )


def _clear_of_edges(fact: dict, margin_key: str) -> bool:
    spread = max(-fact["angular_extent_deg"][0], fact["angular_extent_deg"][1])
    return fact["centre_distance_m"] >= 20.0 and fact[margin_key] - spread >= 3.0


def map_direction(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(6) The 8-way map direction of a landmark from the drone."""
    k, facts, rows = _relation_candidates(fs, rng, at)
    good = [f for f in facts if _clear_of_edges(f, "direction_margin_deg")]
    if not good:
        raise Skip("every nearby landmark straddles a direction boundary")
    fact = good[0]
    i = COMPASS8.index(fact["direction"])
    options = [fact["direction"]] + [COMPASS8[(i + d) % 8] for d in (-1, 1, 4)]
    return _relation_draft(fs, k, fact, rows[fact["feature"]["id"]], options)


def clock_position(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(7) The clock position of a landmark relative to the heading of travel."""
    k, facts, rows = _relation_candidates(fs, rng, at)
    if facts[0]["heading_source"] != "track":
        raise Skip("the drone is not moving")
    good = [f for f in facts if _clear_of_edges(f, "clock_margin_deg")]
    if not good:
        raise Skip("every nearby landmark straddles a clock boundary")
    fact = good[0]
    hour = fact["clock"]
    options = [hour]
    for other in ((hour % 12) + 1, ((hour - 2) % 12) + 1, (12 - hour) or 12, ((hour + 5) % 12) + 1):
        if other not in options and len(options) < 4:
            options.append(other)
    return _relation_draft(fs, k, fact, rows[fact["feature"]["id"]], options)


def distance_band_task(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(8) The distance band of a landmark."""
    k, facts, rows = _relation_candidates(fs, rng, at)
    good = [
        f
        for f in facts
        if f["distance_band_margin"] >= 0.1
        and distance_band(f["centre_distance_m"])[0] == f["distance_band"]
    ]
    if not good:
        raise Skip("every nearby landmark is near a band edge")
    fact = good[0]
    options = [fact["distance_band"], *_nearest_others(fact["distance_band"], band_labels())]
    return _relation_draft(fs, k, fact, rows[fact["feature"]["id"]], options)


def approach_recede(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(9) Is the drone approaching or receding from a landmark around t."""
    k, facts, rows = _relation_candidates(fs, rng, at)
    wanted = "approaching" if rng.integers(2) == 0 else "receding"
    good = [
        f
        for f in facts
        if f["motion"]["monotonic"]
        and f["motion"]["motion"] in ("approaching", "receding")
        and abs(f["motion"]["change_m"]) >= max(5.0, 0.1 * f["centre_distance_m"])
    ]
    good.sort(key=lambda f: f["motion"]["motion"] != wanted)
    if not good:
        raise Skip("no landmark clearly getting nearer or farther")
    fact = good[0]
    motion = fact["motion"]["motion"]
    other = "receding" if motion == "approaching" else "approaching"
    start, end = fact["motion"]["window"]
    return _relation_draft(
        fs,
        k,
        fact,
        rows[fact["feature"]["id"]],
        [motion, other],
        frames=[start, float(fs.t[k]), end],
    )


# --- reasoning --------------------------------------------------------------------------


def _resampled(x: np.ndarray, y: np.ndarray, n: int = 32) -> np.ndarray:
    s = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
    stations = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(stations, s, x), np.interp(stations, s, y)], -1)


def _other_flight_tracks(fs: FlightSeeds, crop: Crop, frame: LocalFrame) -> list[np.ndarray]:
    """Pieces of other flights inside the crop, in the clip's local metres."""
    west, south, east, north = crop.bbox
    rows = fs.conn.execute(
        text(
            "SELECT ST_AsBinary(ST_Intersection(ST_Force2D(path), e.g)) FROM flights, "
            "(SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS g) e "
            "WHERE id <> :id AND path && e.g ORDER BY id LIMIT 20"
        ),
        {"w": west, "s": south, "e": east, "n": north, "id": fs.flight_id},
    ).all()
    tracks = []
    for (wkb,) in rows:
        geometry = shapely.from_wkb(bytes(wkb))
        parts = getattr(geometry, "geoms", [geometry])
        lines = [g for g in parts if isinstance(g, LineString) and len(g.coords) >= 2]
        if lines:
            longest = max(lines, key=lambda g: g.length)
            xy = np.asarray(longest.coords)
            enu = frame.to_enu(xy[:, 0], xy[:, 1], 0.0)
            tracks.append(enu[:, :2])
    return tracks


def flown_track(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(10) Which of four tracks on the crop is the one flown in the clip."""
    start, end = fs.clip(rng, at, CLIP_S)
    t, lon, lat = fs.path(start, end)
    if t.size < 5:
        raise Skip("clip too short")
    frame = LocalFrame(float(np.mean(lon)), float(np.mean(lat)))
    xy = frame.to_enu(lon, lat, 0.0)[:, :2]
    extent = float(np.ptp(xy, axis=0).max())
    if extent < 60.0:
        raise Skip("the drone moved less than 60 m in the clip")
    centre = xy.mean(axis=0)
    local = xy - centre
    shift = (
        rng.uniform(0.35, 0.6)
        * extent
        * np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)])
    )
    transforms = {
        "mirrored": local * np.array([-1.0, 1.0]),
        "rotated 90°": local @ np.array([[0.0, -1.0], [1.0, 0.0]]),
        "rotated 180°": -local,
        "reversed": local[::-1],
        "shifted": local + shift,
    }
    crop_guess = Crop.covering(lon, lat, margin=0.6)
    real = {
        f"other flight {i}": track - centre
        for i, track in enumerate(_other_flight_tracks(fs, crop_guess, frame))
    }
    truth = _resampled(*local.T)
    accepted: list[tuple[str, np.ndarray]] = []
    for name, track in [
        *real.items(),
        *[(n, transforms[n]) for n in rng.permutation(list(transforms))],
    ]:
        candidate = _resampled(*track.T)
        if len(candidate) < 2:
            continue
        distinct = all(
            np.hypot(*(candidate - other).T).mean() >= 0.15 * extent
            for other in [truth, *(_resampled(*a.T) for _, a in accepted)]
        )
        if distinct:
            accepted.append((name, track))
        if len(accepted) == 3:
            break
    if len(accepted) < 3:
        raise Skip("the candidate tracks are too alike")
    tracks = [local, *(a for _, a in accepted)]
    geometries = []
    for track in tracks:
        points = np.column_stack([track + centre, np.zeros(len(track))])
        g_lon, g_lat, _ = frame.to_geodetic(points)
        geometries.append(
            {"type": "LineString", "coordinates": np.stack([g_lon, g_lat], -1).round(7).tolist()}
        )
    all_lon = np.concatenate([np.asarray(g["coordinates"])[:, 0] for g in geometries])
    all_lat = np.concatenate([np.asarray(g["coordinates"])[:, 1] for g in geometries])
    crop = Crop.covering(all_lon, all_lat)
    frames = np.linspace(float(t[0]), float(t[-1]), 4).round(2).tolist()
    return Draft(
        facts={
            "clip": [start, end],
            "length_m": round(float(np.hypot(*np.diff(xy, axis=0).T).sum()), 1),
            "distractors": [n for n, _ in accepted],
        },
        options=[{"track": "flown"}, *({"track": name} for name, _ in accepted)],
        lettered=True,
        imagery={"frames": frames, "crop": crop.as_json()},
        clip=(float(t[0]), float(t[-1])),
        marks=[{"kind": "track", "option": i, "geometry": g} for i, g in enumerate(geometries)],
    )


def turn_sequence(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(11) The sequence of turns in a clip."""
    turns = fs.events["turns"]
    if len(turns) < 2:
        raise Unavailable("fewer than two turns in the flight")
    n = int(rng.integers(2, min(4, len(turns)) + 1))
    first = (
        int(rng.integers(0, len(turns) - n + 1))
        if at is None
        else max(0, min(len(turns) - n, int(np.searchsorted([e["t"] for e in turns], at)) - n // 2))
    )
    chosen = turns[first : first + n]
    start = max(float(fs.samples["t"][0]), chosen[0]["t_start"] - 3.0)
    end = min(float(fs.samples["t"][-1]), chosen[-1]["t_end"] + 3.0)
    if any(abs(e["angle_deg"]) < 45.0 for e in chosen):
        raise Skip("a turn too slight to name")
    if any(b["t_start"] - a["t_end"] < 2.0 for a, b in itertools.pairwise(chosen)):
        raise Skip("two turns run into each other")
    answer = [e["direction"] for e in chosen]
    flip = {"left": "right", "right": "left"}
    j = int(rng.integers(len(answer)))
    candidates = [
        [flip[d] for d in answer],
        answer[::-1],
        [*answer[:j], flip[answer[j]], *answer[j + 1 :]],
        answer[:-1],
        [*answer, flip[answer[-1]]],
    ]
    distractors: list[str] = []
    text_answer = ", ".join(answer)
    for candidate in candidates:
        option = ", ".join(candidate)
        if candidate and option != text_answer and option not in distractors:
            distractors.append(option)
    if len(distractors) < 3:
        raise Skip("the sequence is too symmetric for distinct distractors")
    t, lon, lat = fs.path(start, end)
    crop = Crop.covering(lon, lat) if t.size else None
    return Draft(
        facts={"turns": chosen, "clip": [start, end]},
        options=[text_answer, *distractors[:3]],
        imagery={
            "frames": np.linspace(start, end, 4).round(2).tolist(),
            **({"crop": crop.as_json()} if crop else {}),
        },
        clip=(start, end),
    )


def landmark_order(fs: FlightSeeds, rng: np.random.Generator, at: float | None) -> Draft:
    """(12) The order in which three landmarks were passed (closest approach)."""
    start, end = fs.clip(rng, at, 2 * CLIP_S)
    t, lon, lat = fs.path(start, end)
    if t.size < 10:
        raise Skip("clip too short")
    middle = t.size // 2
    radius = 0.6 * float(WGS84.inv(lon[0], lat[0], lon[-1], lat[-1])[2]) + 150.0
    passes = []
    for r in fs.landmarks_near(float(lon[middle]), float(lat[middle]), radius):
        _, _, d = WGS84.inv(lon, lat, np.full(t.size, r.lon), np.full(t.size, r.lat))
        i = int(np.argmin(d))
        if 0 < i < t.size - 1 and d[i] < 100.0:
            passes.append((float(t[i]), float(d[i]), r))
    passes.sort(key=lambda p: p[0])
    spaced: list[tuple[float, float, Any]] = []
    for p in (passes[i] for i in rng.permutation(len(passes))):
        if all(abs(p[0] - q[0]) >= 5.0 for q in spaced):
            spaced.append(p)
        if len(spaced) == 3:
            break
    if len(spaced) < 3:
        raise Skip("fewer than three landmarks passed at least 5 s apart")
    labels = ["1", "2", "3"]
    marked = list(spaced)  # labels are given in a random order, the answer is the pass order
    in_order = sorted(marked, key=lambda p: p[0])
    answer = [labels[marked.index(p)] for p in in_order]
    candidates = [
        answer[::-1],
        [answer[1], answer[0], answer[2]],
        [answer[0], answer[2], answer[1]],
        [answer[2], answer[0], answer[1]],
    ]
    distractors = [", ".join(c) for c in candidates if c != answer][:3]
    point_lon, point_lat = _feature_points([p[2] for p in marked])
    crop = Crop.covering(np.concatenate([lon, point_lon]), np.concatenate([lat, point_lat]))
    return Draft(
        facts={
            "clip": [start, end],
            "passes": [
                {
                    "label": labels[marked.index(p)],
                    "id": p[2].id,
                    "name": p[2].name,
                    "class": p[2][1],
                    "t": p[0],
                    "distance_m": round(p[1], 1),
                }
                for p in in_order
            ],
        },
        options=[", ".join(answer), *distractors],
        imagery={"frames": np.linspace(start, end, 4).round(2).tolist(), "crop": crop.as_json()},
        clip=(start, end),
        marks=[_feature_mark(p[2], label=labels[i]) for i, p in enumerate(marked)],
    )


GENERATORS = {
    1: count_in_view,
    2: landmark_in_view,
    3: drone_region,
    4: footprint_box,
    5: start_end_cell,
    6: map_direction,
    7: clock_position,
    8: distance_band_task,
    9: approach_recede,
    10: flown_track,
    11: turn_sequence,
    12: landmark_order,
}


def finish(
    fs: FlightSeeds, number: int, serial: int, draft: Draft, rng: np.random.Generator, seed: int
) -> dict[str, Any]:
    """The seed record: options shuffled, marks renumbered to follow their option."""
    order = rng.permutation(len(draft.options))  # order[new position] = old index
    position = {int(old): new for new, old in enumerate(order)}
    options = [draft.options[i] for i in order]
    answer, distractors = draft.options[0], draft.options[1:]
    details = None
    if draft.lettered:  # the options are marks on the crop, named by letter
        details, options = options, list(LETTERS[: len(options)])
        answer = options[position[0]]
        distractors = [o for o in options if o != answer]
    imagery = dict(draft.imagery)
    if draft.marks:
        imagery["marks"] = [
            {**m, "option": position[m["option"]], "label": LETTERS[position[m["option"]]]}
            if "option" in m
            else m
            for m in draft.marks
        ]
    name, group = TASKS[number]
    record: dict[str, Any] = {
        "id": f"f{fs.flight_id}-t{number:02d}-{serial:04d}",
        "task": name,
        "task_number": number,
        "group": group,
        "flight_id": fs.flight_id,
        "t": draft.t,
        "clip": list(draft.clip) if draft.clip else None,
        "facts": draft.facts,
        "answer": answer,
        "options": options,
        "answer_index": position[0],
        "distractors": distractors,
        "imagery": imagery,
        "provenance": {
            "flight": fs.row.name,
            "source_format": fs.row.source_format,
            "camera_model": fs.row.camera_model,
            "seed": seed,
            "generator": f"skyspace {VERSION}",
        },
    }
    if details is not None:
        record["option_details"] = details
    return record


def generate(
    conn: Connection,
    flight_id: int,
    tasks: list[int],
    *,
    count: int,
    seed: int,
    at: float | None = None,
    max_range: float = 5000.0,
    attempts: int = 8,
) -> dict[str, Any]:
    """Up to `count` seeds per task, trying `attempts` candidates per wanted seed."""
    seeds: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    try:
        fs = FlightSeeds(conn, flight_id, max_range)
    except Skip as reason:
        return {"flight_id": flight_id, "seeds": [], "skipped": {str(reason): len(tasks)}}
    for number in tasks:
        rng = np.random.default_rng([seed, flight_id, number])
        made = 0
        for _ in range(count * attempts):
            if made == count:
                break
            try:
                draft = GENERATORS[number](fs, rng, at)
            except Skip as reason:
                skipped[f"{TASKS[number][0]}: {reason}"] += 1
                if isinstance(reason, Unavailable):
                    break
                continue
            seeds.append(finish(fs, number, made, draft, rng, seed))
            made += 1
    return {"flight_id": flight_id, "seeds": seeds, "skipped": dict(sorted(skipped.items()))}
