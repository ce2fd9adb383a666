"""Flights: upload telemetry, list and read trajectories, poses and segments."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.api.deps import EngineDep, ReadEngineDep, SettingsDep
from app.api.params import feature_collection, parse_bbox, parse_datetime, parse_interval
from app.api.responses import JSON, GeoJSON
from app.db import flights as store
from app.db.footprints import ingest_file
from app.errors import InvalidInput, TooLarge
from app.geometry.frames import LocalFrame
from app.geometry.trajectory import interpolate_pose, simplify_indices, speeds_and_headings

router = APIRouter(tags=["flights"])

POSE_OUTPUT = (*store.POSE_FIELDS, "focal35_mm", "zoom")


def _json_object(text: str | None, name: str) -> dict[str, Any] | None:
    if text is None or text == "":
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{name}: invalid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be a JSON object")
    return value


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _none_if_nan(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _to_t(value: str | None, start_time: datetime, name: str) -> float | None:
    """A query instant as `t`: seconds since the first sample, or an ISO 8601 instant."""
    if value is None:
        return None
    try:
        t = float(value)
    except ValueError:
        return (parse_datetime(value, name) - start_time).total_seconds()
    if not math.isfinite(t):
        raise InvalidInput(f"{name} must be finite")
    return t


def flight_feature(row: Any) -> dict[str, Any]:
    """A flight as a GeoJSON Feature (path geometry, summary properties)."""
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": orjson.loads(row.path_geojson),
        "properties": store.summary(row),
    }


@router.post("/flights", status_code=201, summary="Upload a telemetry file as a flight")
def create_flight(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="SRT, CSV, GPX, GeoJSON, KML or a photo zip")],
    name: Annotated[str | None, Form()] = None,
    format: Annotated[
        Literal["srt", "csv", "gpx", "geojson", "kml", "photos"] | None,
        Form(description="Detected from the name and content when omitted"),
    ] = None,
    camera: Annotated[str | None, Form(description="JSON camera object")] = None,
    takeoff_elevation: Annotated[float | None, Form(description="Metres above sea level")] = None,
    altitude_reference: Annotated[Literal["agl", "takeoff", "msl"] | None, Form()] = None,
    mapping: Annotated[str | None, Form(description="CSV column mapping (JSON)")] = None,
    start_time: Annotated[str | None, Form(description="Clock of files without one")] = None,
) -> Response:
    """Parse, validate and store in one transaction; 201 with the flight summary."""
    limit = settings.max_upload_mb * 1024 * 1024
    if file.size is not None and file.size > limit:
        raise TooLarge(f"upload is {file.size} bytes; the limit is {settings.max_upload_mb} MB")
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"upload is over the limit of {settings.max_upload_mb} MB")
    if not data:
        raise InvalidInput("file: empty upload")
    camera_spec = _json_object(camera, "camera")
    if takeoff_elevation is not None and not math.isfinite(takeoff_elevation):
        raise InvalidInput("takeoff_elevation must be finite")
    options = store.FlightOptions(
        name=name or file.filename or "flight",
        camera=camera_spec,
        altitude_reference=altitude_reference,
        takeoff_elevation=takeoff_elevation,
    )
    flight_id = ingest_file(
        engine,
        data,
        filename=file.filename or "",
        fmt=format,
        mapping=_json_object(mapping, "mapping"),
        options=options,
        max_range=settings.max_range_m,
        start_time=parse_datetime(start_time, "start_time") if start_time else None,
    )
    with engine.connect() as conn:
        row = store.get_flight(conn, flight_id)
    location = str(request.url_for("get_flight", flight_id=flight_id))
    return JSON(store.summary(row), status_code=201, headers={"Location": location})


@router.get("/flights", summary="Flights (OGC API – Features items)")
def list_flights(
    request: Request,
    engine: ReadEngineDep,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (WGS84)")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    intersects: Annotated[str | None, Query(description="A GeoJSON geometry")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> GeoJSON:
    """Flights whose path meets the bbox / geometry and whose time meets the interval."""
    geometry = None
    if intersects is not None:
        parsed = _json_object(intersects, "intersects")
        if not parsed or "type" not in parsed or "coordinates" not in parsed:
            raise InvalidInput("intersects must be a GeoJSON geometry object")
        geometry = orjson.dumps(parsed).decode()
    with engine.connect() as conn:
        rows, matched = store.list_flights(
            conn,
            bbox=parse_bbox(bbox),
            interval=parse_interval(datetime_),
            intersects=geometry,
            limit=limit,
            offset=offset,
        )
    features = [flight_feature(row) for row in rows]
    return GeoJSON(
        feature_collection(request, features, offset=offset, limit=limit, matched=matched)
    )


@router.get("/flights/{flight_id}", summary="One flight as a GeoJSON Feature")
def get_flight(flight_id: int, engine: ReadEngineDep) -> GeoJSON:
    """The flight's path and summary."""
    with engine.connect() as conn:
        return GeoJSON(flight_feature(store.get_flight(conn, flight_id, with_path=True)))


@router.delete("/flights/{flight_id}", status_code=204, summary="Delete a flight")
def delete_flight(flight_id: int, engine: EngineDep) -> Response:
    """Delete the flight, its samples and its footprints."""
    with engine.begin() as conn:
        store.delete_flight(conn, flight_id)
    return Response(status_code=204)


def _sample_feature(samples: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "t": float(samples["t"][i]),
        "time": _iso(samples["time"][i]),
        "frame": None if np.isnan(samples["frame"][i]) else int(samples["frame"][i]),
    }
    properties |= {name: _none_if_nan(float(samples[name][i])) for name in POSE_OUTPUT}
    coordinates = [float(samples["lon"][i]), float(samples["lat"][i]), float(samples["z"][i])]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": properties,
    }


@router.get("/flights/{flight_id}/samples", summary="The flight's samples (GeoJSON points)")
def flight_samples(
    flight_id: int,
    engine: ReadEngineDep,
    start: Annotated[str | None, Query(description="t seconds or ISO instant")] = None,
    end: Annotated[str | None, Query(description="t seconds or ISO instant")] = None,
    limit: Annotated[int, Query(ge=1, le=200_000)] = 10_000,
) -> GeoJSON:
    """Samples with `start <= t <= end`, in time order, at most `limit`."""
    with engine.connect() as conn:
        first, last, start_time = store.time_range(conn, flight_id)
        lo, hi = _to_t(start, start_time, "start"), _to_t(end, start_time, "end")
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput("start is after end")
        samples = store.load_samples(conn, flight_id, start=lo, end=hi, limit=limit)
    features = [_sample_feature(samples, i) for i in range(samples["t"].size)]
    return GeoJSON(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberReturned": len(features),
            "time_range": [first, last],
        }
    )


def flight_instant(conn: Any, flight_id: int, t_text: str) -> float:
    """A query instant as the flight's `t`; 404 for no flight, 422 outside its time range."""
    first, last, start_time = store.time_range(conn, flight_id)
    t = _to_t(t_text, start_time, "t")
    assert t is not None
    if not first <= t <= last:
        raise InvalidInput(f"t={t:g} is outside the flight's time range [{first:g}, {last:g}] s")
    return t


def pose_at(conn: Any, flight_id: int, t_text: str) -> dict[str, Any]:
    """The interpolated pose at a query instant; 422 outside the flight's time range."""
    t = flight_instant(conn, flight_id, t_text)
    pair = store.bracketing_samples(conn, flight_id, t)
    pose = interpolate_pose(pair, t)
    return {
        "flight_id": flight_id,
        "t": t,
        "time": _iso(pose["time"]),
        "lon": pose["lon"],
        "lat": pose["lat"],
        "z": pose["z"],
        **{name: _none_if_nan(pose[name]) for name in POSE_OUTPUT},
        "frame": None if math.isnan(pose["frame"]) else int(pose["frame"]),
        "interpolated": bool(pair["t"].size == 2 and pair["t"][0] != t),
        "between": [float(v) for v in pair["t"]],
    }


@router.get("/flights/{flight_id}/pose", summary="The pose at any instant (interpolated)")
def flight_pose(
    flight_id: int,
    engine: ReadEngineDep,
    t: Annotated[str, Query(description="t seconds since the first sample, or ISO instant")],
) -> JSON:
    """Position linear in a local metric frame, headings along the shortest arc."""
    with engine.connect() as conn:
        return JSON(pose_at(conn, flight_id, t))


def _trajectory(
    samples: dict[str, np.ndarray], simplify: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kept indices, speeds and headings of a sample run (simplified in metres)."""
    speed, heading, _ = speeds_and_headings(samples["t"], samples["lon"], samples["lat"])
    keep = np.arange(samples["t"].size)
    if simplify and samples["t"].size > 2:
        frame = LocalFrame(float(samples["lon"][0]), float(samples["lat"][0]))
        enu = frame.to_enu(samples["lon"], samples["lat"], 0.0)
        keep = simplify_indices(enu[:, :2], simplify)
    return keep, speed, heading


def _trajectory_geojson(
    row: Any,
    samples: dict[str, np.ndarray],
    keep: np.ndarray,
    speed: np.ndarray,
    heading: np.ndarray,
) -> dict[str, Any]:
    coordinates = np.column_stack([samples["lon"], samples["lat"], samples["z"]])[keep]
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "LineString", "coordinates": coordinates.tolist()},
        "properties": {
            **store.summary(row),
            "times": [_iso(v) for v in samples["time"][keep]],
            "t": samples["t"][keep].tolist(),
            "speed_mps": np.round(speed[keep], 3).tolist(),
            "heading_deg": [_none_if_nan(v) for v in np.round(heading[keep], 2).tolist()],
        },
    }


def _trajectory_mfjson(
    row: Any,
    samples: dict[str, np.ndarray],
    keep: np.ndarray,
    speed: np.ndarray,
    heading: np.ndarray,
) -> dict[str, Any]:
    datetimes = [_iso(v) for v in samples["time"][keep]]

    def measure(values: np.ndarray, uom: str) -> dict[str, Any]:
        return {
            "type": "Measure",
            "form": uom,
            "values": [_none_if_nan(v) for v in values.tolist()],
            "interpolation": "Linear",
        }

    return {
        "type": "Feature",
        "id": row.id,
        "crs": {"type": "Name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "trs": {
            "type": "Link",
            "properties": {
                "type": "OGCDEF",
                "href": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            },
        },
        "properties": store.summary(row),
        "temporalGeometry": {
            "type": "MovingPoint",
            "datetimes": datetimes,
            "coordinates": np.column_stack([samples["lon"], samples["lat"]])[keep].tolist(),
            "interpolation": "Linear",
        },
        "temporalProperties": [
            {
                "datetimes": datetimes,
                "altitude": measure(samples["z"][keep], "MTR"),
                "speed": measure(np.round(speed[keep], 3), "MTS"),
                "heading": measure(np.round(heading[keep], 2), "DD"),
            }
        ],
    }


def _trajectory_reply(
    row: Any, samples: dict[str, np.ndarray], simplify: float | None, fmt: str
) -> JSON:
    keep, speed, heading = _trajectory(samples, simplify)
    if fmt == "mfjson":
        return JSON(_trajectory_mfjson(row, samples, keep, speed, heading))
    return GeoJSON(_trajectory_geojson(row, samples, keep, speed, heading))


@router.get("/flights/{flight_id}/trajectory", summary="The trajectory with speed and heading")
def flight_trajectory(
    flight_id: int,
    engine: ReadEngineDep,
    simplify: Annotated[float | None, Query(ge=0, description="Tolerance in metres")] = None,
    format: Annotated[Literal["geojson", "mfjson"], Query()] = "geojson",
) -> JSON:
    """GeoJSON LineString with per-vertex times, speeds and headings, or OGC MF-JSON."""
    with engine.connect() as conn:
        row = store.get_flight(conn, flight_id)
        samples = store.load_samples(conn, flight_id)
    return _trajectory_reply(row, samples, simplify, format)


@router.get("/flights/{flight_id}/segment", summary="The sub-trajectory between two instants")
def flight_segment(
    flight_id: int,
    engine: ReadEngineDep,
    start: Annotated[str, Query(description="t seconds or ISO instant")],
    end: Annotated[str, Query(description="t seconds or ISO instant")],
    format: Annotated[Literal["geojson", "mfjson"], Query()] = "geojson",
) -> JSON:
    """Interpolated end points plus the samples between them."""
    with engine.connect() as conn:
        row = store.get_flight(conn, flight_id)
        first, last, start_time = store.time_range(conn, flight_id)
        lo, hi = _to_t(start, start_time, "start"), _to_t(end, start_time, "end")
        assert lo is not None and hi is not None
        if lo >= hi:
            raise InvalidInput("start must be before end")
        if lo < first or hi > last:
            raise InvalidInput(f"the segment must lie within [{first:g}, {last:g}] s")
        inside = store.load_samples(conn, flight_id, start=lo, end=hi)
        ends = [
            interpolate_pose(store.bracketing_samples(conn, flight_id, at), at) for at in (lo, hi)
        ]
    samples = {
        name: np.concatenate(
            ([ends[0][name]], values[(inside["t"] > lo) & (inside["t"] < hi)], [ends[1][name]])
        )
        for name, values in inside.items()
    }
    return _trajectory_reply(row, samples, None, format)
