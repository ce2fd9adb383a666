"""GPS track formats: GPX (gpxpy), GeoJSON and KML `gx:Track`."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

import gpxpy
import gpxpy.gpx
import orjson

from app.errors import InvalidInput
from app.ingest.common import instant, number
from app.ingest.track import FIELDS, TrackBuilder
from app.ingest.track import line_number as _line_number

# GeoJSON Point-feature properties read as pose fields (other properties are ignored)
_POSE_PROPERTIES = tuple(f for f in FIELDS if f not in ("t", "wall", "lon", "lat"))
_TIME_KEYS = ("time", "datetime", "timestamp")
_TIMES_KEYS = ("times", "coordTimes", "datetimes")


def _row(**values: float) -> tuple[float, ...]:
    return tuple(values.get(name, math.nan) for name in FIELDS)


def parse_gpx(data: bytes) -> TrackBuilder:
    """Every track point of every track and segment (elevation is above sea level)."""
    try:
        gpx = gpxpy.parse(data.decode("utf-8-sig", errors="replace"))
    except gpxpy.gpx.GPXException as exc:
        raise InvalidInput(f"GPX: {str(exc).splitlines()[0]}") from None
    builder = TrackBuilder("gpx")
    count = 0
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                count += 1
                if point.time is None:
                    raise InvalidInput(f"GPX: track point {count} has no <time>")
                wall = (
                    point.time.timestamp()
                    if point.time.tzinfo
                    else instant(point.time.isoformat(), f"GPX track point {count}")
                )
                elevation = point.elevation if point.elevation is not None else math.nan
                builder.rows.append(  # type: ignore[union-attr]
                    _row(
                        t=wall,
                        wall=wall,
                        lon=point.longitude,
                        lat=point.latitude,
                        alt_msl=elevation,
                    )
                )
    if gpx.tracks and gpx.tracks[0].name:
        builder.properties["name"] = gpx.tracks[0].name
    return builder


def _load_json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        raise InvalidInput(f"line {_line_number(text, exc.pos)}: invalid JSON: {exc.msg}") from None


def parse_geojson(data: bytes) -> TrackBuilder:
    """A LineString with a times array, or Point features each with a time property."""
    document = _load_json(data)
    if not isinstance(document, dict):
        raise InvalidInput("GeoJSON: expected an object")
    features = (
        document.get("features") if document.get("type") == "FeatureCollection" else [document]
    )
    if not isinstance(features, list) or not features:
        raise InvalidInput("GeoJSON: no features")
    builder = TrackBuilder("geojson")
    for number_, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            raise InvalidInput(f"GeoJSON feature {number_}: not a Feature with a geometry")
        geometry = feature["geometry"]
        properties = feature.get("properties") or {}
        where = f"GeoJSON feature {number_}"
        if geometry.get("type") == "LineString":
            _line_feature(builder, geometry, properties, where)
        elif geometry.get("type") == "Point":
            _point_feature(builder, geometry, properties, where)
        else:
            raise InvalidInput(f"{where}: geometry must be a LineString or Point")
    return builder


def _coordinates(position: Any, where: str) -> tuple[float, float, float]:
    if not isinstance(position, list) or len(position) < 2:
        raise InvalidInput(f"{where}: a position must be [lon, lat] or [lon, lat, alt]")
    lon, lat = number(position[0], where), number(position[1], where)
    alt = number(position[2], where) if len(position) > 2 else math.nan
    return lon, lat, alt


def _line_feature(builder: TrackBuilder, geometry: dict, properties: dict, where: str) -> None:
    times = next((properties[k] for k in _TIMES_KEYS if k in properties), None)
    positions = geometry.get("coordinates") or []
    if not isinstance(times, list) or len(times) != len(positions):
        raise InvalidInput(
            f"{where}: a LineString needs properties.times with one instant per coordinate"
        )
    altitude_field = properties.get("altitude_reference", "msl")
    if altitude_field not in ("agl", "takeoff", "msl"):
        raise InvalidInput(f"{where}: altitude_reference must be agl, takeoff or msl")
    for index, (position, moment) in enumerate(zip(positions, times, strict=True)):
        at = f"{where}, coordinate {index}"
        lon, lat, alt = _coordinates(position, at)
        wall = instant(moment, at)
        builder.rows.append(  # type: ignore[union-attr]
            _row(t=wall, wall=wall, lon=lon, lat=lat, **{f"alt_{altitude_field}": alt})
        )


def _point_feature(builder: TrackBuilder, geometry: dict, properties: dict, where: str) -> None:
    lon, lat, alt = _coordinates(geometry.get("coordinates"), where)
    moment = next((properties[k] for k in _TIME_KEYS if k in properties), None)
    if moment is None:
        raise InvalidInput(f"{where}: a Point needs a time property")
    wall = instant(moment, where)
    values = {
        name: number(properties[name], f"{where}, property {name}")
        for name in _POSE_PROPERTIES
        if name in properties
    }
    if not math.isnan(alt) and not any(k.startswith("alt_") for k in values):
        values["alt_msl"] = alt
    builder.rows.append(_row(t=wall, wall=wall, lon=lon, lat=lat, **values))  # type: ignore[union-attr]


def parse_kml(data: bytes) -> TrackBuilder:
    """Every `gx:Track` (`<when>` + `<gx:coord>lon lat alt</gx:coord>`) in a KML file."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 1
        raise InvalidInput(f"line {line}: invalid KML: {exc.msg}") from None
    builder = TrackBuilder("kml")
    for track in (el for el in root.iter() if el.tag.endswith("}Track") or el.tag == "Track"):
        whens = [el.text or "" for el in track if el.tag.endswith("when")]
        coords = [el.text or "" for el in track if el.tag.endswith("coord")]
        if len(whens) != len(coords):
            raise InvalidInput("KML: a gx:Track has different numbers of <when> and <gx:coord>")
        for index, (when, coord) in enumerate(zip(whens, coords, strict=True)):
            where = f"KML gx:Track point {index + 1}"
            parts = coord.split()
            if len(parts) < 2:
                raise InvalidInput(f"{where}: <gx:coord> must be 'lon lat [alt]'")
            lon, lat = number(parts[0], where), number(parts[1], where)
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidInput(f"{where}: position ({lon}, {lat}) is out of range")
            alt = number(parts[2], where) if len(parts) > 2 else math.nan
            wall = instant(when, where)
            builder.rows.append(  # type: ignore[union-attr]
                _row(t=wall, wall=wall, lon=lon, lat=lat, alt_msl=alt)
            )
    if not builder.rows:
        raise InvalidInput("KML: no gx:Track found")
    return builder
