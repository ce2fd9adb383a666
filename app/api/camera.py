"""The camera model over HTTP: pixels to the map and back, footprints, the synthetic frame view."""

from __future__ import annotations

import io
import math
from typing import Annotated, Any

import numpy as np
import orjson
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from PIL import Image
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.api.deps import EngineDep, ReadEngineDep, SettingsDep
from app.api.flights import POSE_OUTPUT, _to_t, pose_at
from app.api.responses import JSON, GeoJSON
from app.db import flights as store
from app.db.features import features_in
from app.db.footprints import camera_spec_intrinsics, flight_camera, refresh_footprints
from app.db.scenes import scene_ref
from app.errors import InvalidInput
from app.geometry.camera import CameraSpecError, Intrinsics
from app.geometry.cameras import resolve_camera
from app.geometry.frames import WGS84
from app.geometry.poses import poses_from_samples
from app.geometry.projection import (
    Poses,
    footprint_on_terrain,
    footprints,
    project_pixels,
    project_pixels_on_terrain,
    unproject_points,
)
from app.raster.dem import dem_sampler
from app.raster.frame import render_frame

router = APIRouter(tags=["camera"])
MAX_PIXELS = 100_000


def _pose_and_camera(conn: Any, flight_id: int, t_text: str) -> tuple[Any, Intrinsics, Poses, dict]:
    """The flight row, its camera, and the camera pose at an instant (interpolated)."""
    row = store.get_flight(conn, flight_id)
    camera = flight_camera(row)
    pose = pose_at(conn, flight_id, t_text)
    samples = {  # the interpolated pose as a one-sample flight (None: the file had no value)
        name: np.array([np.nan if pose[name] is None else pose[name]], dtype=float)
        for name in ("t", "lon", "lat", "z", *POSE_OUTPUT)
    }
    # the ground comes from the whole flight (MSL minus take-off altitudes), not one instant
    if row.takeoff_elevation is None:
        ground = store.median_ground(conn, flight_id)
    else:
        ground = row.takeoff_elevation
    poses = poses_from_samples(samples, reference=row.altitude_reference, takeoff_elevation=ground)
    return row, camera, poses, pose


def _finite(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def _ground_reply(result: dict[str, np.ndarray], poses: Poses, i: int) -> dict[str, Any]:
    lon, lat = float(result["lon"][0, i]), float(result["lat"][0, i])
    if not math.isfinite(lon):
        return {
            "intersects": False,
            "lon": None,
            "lat": None,
            "h": None,
            "range_m": None,
            "ground_distance_m": None,
        }
    _, _, distance = WGS84.inv(float(poses.lon[0]), float(poses.lat[0]), lon, lat)
    return {
        "intersects": True,
        "lon": lon,
        "lat": lat,
        "h": float(result["h"][0, i]),
        "range_m": float(result["range"][0, i]),
        "ground_distance_m": float(distance),
    }


def _check_pixels(camera: Intrinsics, u: np.ndarray, v: np.ndarray) -> None:
    if u.size > MAX_PIXELS:
        raise InvalidInput(f"at most {MAX_PIXELS} pixels per request")
    if not (np.isfinite(u).all() and np.isfinite(v).all()):
        raise InvalidInput("pixels must be finite numbers")
    outside = (u < 0) | (u > camera.width) | (v < 0) | (v > camera.height)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InvalidInput(
            f"pixel ({u[i]:g}, {v[i]:g}) is outside the {camera.width}x{camera.height} frame"
        )


def _project(
    request: Request,
    conn: Any,
    camera: Intrinsics,
    poses: Poses,
    u: np.ndarray,
    v: np.ndarray,
    max_range: float,
    dem: int | None,
) -> dict[str, np.ndarray]:
    """Pixels to the level ground, or to the terrain of a `kind=dem` scene."""
    if dem is None:
        return project_pixels(camera, poses, u, v, max_range)
    terrain, heights = _terrain(request, conn, dem, poses, max_range)
    return project_pixels_on_terrain(camera, poses, u, v, max_range, terrain, heights)


def _terrain(request: Request, conn: Any, dem: int, poses: Poses, max_range: float) -> tuple:
    """The height sampler of a `kind=dem` scene around the camera, and its height range."""
    ref = scene_ref(conn, dem)
    kind = conn.execute(text("SELECT kind FROM scenes WHERE id = :id"), {"id": dem}).scalar_one()
    if kind != "dem":
        raise InvalidInput(f"scene {dem} is a {kind} scene, not a dem")
    return dem_sampler(
        request.app.state.imagery, ref, float(poses.lon[0]), float(poses.lat[0]), max_range
    )


Dem = Annotated[int | None, Query(description="A kind=dem scene: meet its terrain")]


@router.get("/flights/{flight_id}/project", summary="A frame pixel to the ground")
def project_one(
    request: Request,
    flight_id: int,
    engine: ReadEngineDep,
    settings: SettingsDep,
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    u: Annotated[float, Query(description="Pixel column (right)")],
    v: Annotated[float, Query(description="Pixel row (down)")],
    dem: Dem = None,
) -> JSON:
    """lon, lat and distances of what pixel (u, v) sees at t; `intersects: false` for sky."""
    us, vs = np.array([u], float), np.array([v], float)
    with engine.connect() as conn:
        _, camera, poses, pose = _pose_and_camera(conn, flight_id, t)
        _check_pixels(camera, us, vs)
        result = _project(request, conn, camera, poses, us, vs, settings.max_range_m, dem)
    return JSON(
        {"flight_id": flight_id, "t": pose["t"], "u": u, "v": v, **_ground_reply(result, poses, 0)}
    )


class PixelsBody(BaseModel):
    """Many pixels at one instant."""

    t: str | float
    pixels: list[tuple[float, float]] = Field(min_length=1)


@router.post("/flights/{flight_id}/project", summary="Many frame pixels to the ground")
def project_many(
    request: Request,
    flight_id: int,
    body: PixelsBody,
    engine: ReadEngineDep,
    settings: SettingsDep,
    dem: Dem = None,
) -> JSON:
    """One result per pixel, in order."""
    pixels = np.asarray(body.pixels, dtype=float)
    with engine.connect() as conn:
        _, camera, poses, pose = _pose_and_camera(conn, flight_id, str(body.t))
        _check_pixels(camera, pixels[:, 0], pixels[:, 1])
        result = _project(
            request, conn, camera, poses, pixels[:, 0], pixels[:, 1], settings.max_range_m, dem
        )
    return JSON(
        {
            "flight_id": flight_id,
            "t": pose["t"],
            "points": [_ground_reply(result, poses, i) for i in range(len(pixels))],
        }
    )


@router.get("/flights/{flight_id}/unproject", summary="A map point to the frame pixel")
def unproject_one(
    flight_id: int,
    engine: ReadEngineDep,
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    h: Annotated[float | None, Query(description="Height; default: the flight's ground")] = None,
) -> JSON:
    """(u, v) of a ground point at t, and whether it is in front of the camera and in frame."""
    with engine.connect() as conn:
        _, camera, poses, pose = _pose_and_camera(conn, flight_id, t)
    height = float(poses.ground[0]) if h is None else h
    result = unproject_points(
        camera, poses, np.array([[lon]]), np.array([[lat]]), np.array([[height]])
    )
    return JSON(
        {
            "flight_id": flight_id,
            "t": pose["t"],
            "lon": lon,
            "lat": lat,
            "u": _finite(result["u"][0, 0]),
            "v": _finite(result["v"][0, 0]),
            "in_front": bool(result["in_front"][0, 0]),
            "in_frame": bool(result["in_frame"][0, 0]),
        }
    )


def footprint_feature(prints: Any, i: int, t: float, time: str | None) -> dict[str, Any]:
    """One computed footprint as a GeoJSON Feature."""
    ring = np.stack([prints.lon[i], prints.lat[i]], axis=-1)
    ring = np.vstack([ring, ring[:1]])
    center = prints.center_ground[i]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring.tolist()]},
        "properties": {
            "t": t,
            "time": time,
            "partial": bool(prints.partial[i]),
            "center_ground": [float(center[0]), float(center[1])],
            "gsd_m": _finite(float(prints.gsd_m[i])),
        },
    }


@router.get("/flights/{flight_id}/footprint", summary="The ground seen at any instant")
def footprint_at(
    request: Request,
    flight_id: int,
    engine: ReadEngineDep,
    settings: SettingsDep,
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    dem: Dem = None,
) -> GeoJSON:
    """The frame outline on the ground (pose interpolated), or on the terrain of a
    `kind=dem` scene; `partial` when clipped at the horizon or the maximum range."""
    with engine.connect() as conn:
        _, camera, poses, pose = _pose_and_camera(conn, flight_id, t)
        if dem is None:
            prints = footprints(camera, poses, settings.max_range_m)
        else:
            terrain, heights = _terrain(request, conn, dem, poses, settings.max_range_m)
            prints = footprint_on_terrain(camera, poses, settings.max_range_m, terrain, heights)
    if not prints.valid[0]:
        raise InvalidInput(
            "the camera sees no ground at this instant (above the horizon)", code="no_ground"
        )
    feature = footprint_feature(prints, 0, pose["t"], pose["time"])
    feature["properties"]["camera_ground"] = [pose["lon"], pose["lat"]]
    return GeoJSON(feature)


@router.get("/flights/{flight_id}/footprints", summary="Stored footprints over a time window")
def stored_footprints(
    flight_id: int,
    engine: ReadEngineDep,
    start: Annotated[str | None, Query(description="t seconds or ISO instant")] = None,
    end: Annotated[str | None, Query(description="t seconds or ISO instant")] = None,
    step: Annotated[float | None, Query(gt=0, description="At most one per `step` seconds")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> GeoJSON:
    """The footprints stored at ingest, in time order."""
    with engine.connect() as conn:
        first, last, start_time = store.time_range(conn, flight_id)
        lo = _to_t(start, start_time, "start")
        hi = _to_t(end, start_time, "end")
        rows = conn.execute(
            text(
                "SELECT t, ST_AsGeoJSON(polygon, 8), partial, ST_X(center_ground), "
                "ST_Y(center_ground), ST_X(camera_ground), ST_Y(camera_ground), gsd_m "
                "FROM footprints WHERE flight_id = :id AND t >= :lo AND t <= :hi ORDER BY t"
            ),
            {"id": flight_id, "lo": first if lo is None else lo, "hi": last if hi is None else hi},
        ).all()
    features, previous = [], -math.inf
    for row in rows:
        if step and row[0] < previous + step:
            continue
        previous = row[0]
        features.append(
            {
                "type": "Feature",
                "geometry": orjson.loads(row[1]),
                "properties": {
                    "t": row[0],
                    "partial": row[2],
                    "center_ground": [row[3], row[4]],
                    "camera_ground": [row[5], row[6]],
                    "gsd_m": row[7],
                },
            }
        )
        if len(features) >= limit:
            break
    return GeoJSON(
        {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
    )


class CameraPatch(BaseModel):
    """A new camera for a flight."""

    camera: dict[str, Any]


@router.patch("/flights/{flight_id}", summary="Change a flight's camera; footprints recomputed")
def patch_flight(
    flight_id: int, body: CameraPatch, engine: EngineDep, settings: SettingsDep
) -> JSON:
    """Store the camera and recompute every sample's footprint, in one transaction."""
    spec = {**body.camera, "intrinsics": camera_spec_intrinsics(body.camera)}
    with engine.begin() as conn:
        store.get_flight(conn, flight_id)
        conn.execute(
            text("UPDATE flights SET camera = CAST(:camera AS jsonb) WHERE id = :id"),
            {"camera": orjson.dumps(spec).decode(), "id": flight_id},
        )
        count = refresh_footprints(conn, flight_id, settings.max_range_m)
        row = store.get_flight(conn, flight_id)
    return JSON({**store.summary(row), "footprint_count": count})


class PoseBody(BaseModel):
    """A full pose for the stateless projection."""

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    alt: float = Field(description="Camera height, same datum as ground_elevation")
    yaw: float = 0.0
    pitch: float = Field(default=-90.0, ge=-180, le=180)
    roll: float = 0.0
    ground_elevation: float = 0.0


class ProjectBody(BaseModel):
    """Camera, pose, and what to compute."""

    camera: dict[str, Any]
    pose: PoseBody
    pixels: list[tuple[float, float]] = Field(default_factory=list)
    points: list[tuple[float, float]] = Field(default_factory=list, description="lon, lat")
    footprint: bool = False


@router.post("/project", summary="Stateless projection with a given camera and pose")
def project_stateless(body: ProjectBody, settings: SettingsDep) -> JSON:
    """Pixels to ground, ground points to pixels, and the footprint, for clients with no flight."""
    try:
        camera = resolve_camera(body.camera, None)
    except CameraSpecError as exc:
        raise InvalidInput(str(exc)) from None
    assert camera is not None
    p = body.pose
    poses = Poses.one(p.lon, p.lat, p.alt, p.yaw, p.pitch, p.roll, ground=p.ground_elevation)
    reply: dict[str, Any] = {"camera": camera.to_dict()}
    if body.pixels:
        pixels = np.asarray(body.pixels, dtype=float)
        _check_pixels(camera, pixels[:, 0], pixels[:, 1])
        result = project_pixels(camera, poses, pixels[:, 0], pixels[:, 1], settings.max_range_m)
        reply["ground"] = [_ground_reply(result, poses, i) for i in range(len(pixels))]
    if body.points:
        points = np.asarray(body.points, dtype=float)
        back = unproject_points(
            camera,
            poses,
            points[None, :, 0],
            points[None, :, 1],
            np.full((1, len(points)), p.ground_elevation),
        )
        reply["pixels"] = [
            {
                "u": _finite(back["u"][0, i]),
                "v": _finite(back["v"][0, i]),
                "in_front": bool(back["in_front"][0, i]),
                "in_frame": bool(back["in_frame"][0, i]),
            }
            for i in range(len(points))
        ]
    if body.footprint:
        prints = footprints(camera, poses, settings.max_range_m)
        reply["footprint"] = footprint_feature(prints, 0, 0.0, None) if prints.valid[0] else None
    return JSON(reply)


@router.get("/flights/{flight_id}/frame-view", summary="The scene as the UAV camera sees it")
def frame_view(
    request: Request,
    flight_id: int,
    engine: ReadEngineDep,
    settings: SettingsDep,
    scene: Annotated[int, Query(description="Scene id")],
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    width: Annotated[int, Query(ge=16, le=2048)] = 512,
    format: Annotated[str, Query(pattern="^(png|jpeg)$")] = "png",
) -> Response:
    """The scene resampled through the inverse projection into the camera's frame."""
    imagery = request.app.state.imagery
    with engine.connect() as conn:
        _, camera, poses, _ = _pose_and_camera(conn, flight_id, t)
        ref = scene_ref(conn, scene)
    image = render_frame(imagery, ref, camera, poses, width, settings.max_range_m)
    buffer = io.BytesIO()
    picture = Image.fromarray(image if format == "png" else image[..., :3])
    picture.save(buffer, format="PNG" if format == "png" else "JPEG", quality=90)
    return Response(buffer.getvalue(), media_type=f"image/{format}")


@router.get("/scenes/{scene_id}/frame", summary="The scene in a flight's camera (same as above)")
def scene_frame(
    request: Request,
    scene_id: int,
    engine: ReadEngineDep,
    settings: SettingsDep,
    flight: Annotated[int, Query(description="Flight id")],
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    width: Annotated[int, Query(ge=16, le=2048)] = 512,
    format: Annotated[str, Query(pattern="^(png|jpeg)$")] = "png",
) -> Response:
    """`/flights/{flight}/frame-view?scene={scene_id}` under the imagery path."""
    return frame_view(request, flight, engine, settings, scene_id, t, width, format)


@router.get("/flights/{flight_id}/visible", summary="Landmarks in view at an instant")
def visible(
    flight_id: int,
    engine: ReadEngineDep,
    settings: SettingsDep,
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    class_: Annotated[str | None, Query(alias="class")] = None,
) -> JSON:
    """Landmarks meeting the footprint at t, with the fraction in view and the pixel where a
    point of the visible part appears."""
    with engine.connect() as conn:
        _, camera, poses, pose = _pose_and_camera(conn, flight_id, t)
        prints = footprints(camera, poses, settings.max_range_m)
        if not prints.valid[0]:
            return JSON({"flight_id": flight_id, "t": pose["t"], "features": []})
        ring = np.stack([prints.lon[0], prints.lat[0]], axis=-1)
        rows = features_in(conn, shapely.to_wkb(shapely.polygons(ring)), class_)
    lon = np.array([[r.lon for r in rows]], dtype=float)
    lat = np.array([[r.lat for r in rows]], dtype=float)
    pixels = unproject_points(camera, poses, lon, lat, np.full(lon.shape, float(poses.ground[0])))
    return JSON(
        {
            "flight_id": flight_id,
            "t": pose["t"],
            "features": [
                {
                    "id": r.id,
                    "class": r[1],
                    "name": r.name,
                    "fraction_in_view": None if r.fraction is None else round(float(r.fraction), 4),
                    "u": _finite(pixels["u"][0, i]),
                    "v": _finite(pixels["v"][0, i]),
                }
                for i, r in enumerate(rows)
            ],
        }
    )
