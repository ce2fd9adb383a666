"""CSV flight logs: AirData exports, DJI TXT-log-to-CSV exports, or any CSV with a mapping.

A mapping names, for each skyspace field, the CSV column it comes from:
`{"lat": "Latitude", "lon": "Longitude", "time": "Timestamp", "alt_takeoff": "Height",
"units": {"alt_takeoff": "ft"}}`. `time` is a wall clock (ISO 8601 or epoch s/ms); `t` is
seconds since the start (`t_unit` may say `ms`). Lengths are metres unless `units` says `ft`.
Units written in AirData and DJI headers (`(feet)`, `[ft]`) are read from the header itself.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

from app.errors import InvalidInput
from app.ingest.common import FEET, instant, number
from app.ingest.track import FIELDS, TrackBuilder

MAPPABLE = (*(f for f in FIELDS if f != "wall"), "time")
LENGTH_FIELDS = {"alt_agl", "alt_takeoff", "alt_msl"}

AIRDATA = {
    "t": ["time(millisecond)"],
    "time": ["datetime(utc)"],
    "lat": ["latitude"],
    "lon": ["longitude"],
    "alt_takeoff": ["height_above_takeoff(feet)", "height_above_takeoff(meters)"],
    "alt_agl": [
        "height_above_ground_at_drone_location(feet)",
        "height_above_ground_at_drone_location(meters)",
    ],
    "alt_msl": ["altitude_above_seaLevel(feet)", "altitude_above_seaLevel(meters)"],
    "yaw": ["compass_heading(degrees)"],
    "pitch": ["pitch(degrees)"],
    "roll": ["roll(degrees)"],
    "gimbal_yaw": ["gimbal_heading(degrees)"],
    "gimbal_pitch": ["gimbal_pitch(degrees)"],
    "gimbal_roll": ["gimbal_roll(degrees)"],
}
DJI_TXT = {
    "t": ["OSD.flyTime [s]", "OSD.flyTime"],
    "lat": ["OSD.latitude"],
    "lon": ["OSD.longitude"],
    "alt_takeoff": ["OSD.height [ft]", "OSD.height [m]", "OSD.height"],
    "alt_msl": ["OSD.altitude [ft]", "OSD.altitude [m]"],
    "yaw": ["OSD.yaw", "OSD.yaw [360]"],
    "pitch": ["OSD.pitch"],
    "roll": ["OSD.roll"],
    "gimbal_yaw": ["GIMBAL.yaw", "GIMBAL.yaw [360]"],
    "gimbal_pitch": ["GIMBAL.pitch"],
    "gimbal_roll": ["GIMBAL.roll"],
}
_UNIT_IN_HEADER = re.compile(r"[\(\[]\s*(feet|ft|meters|m)\s*[\)\]]", re.IGNORECASE)


def _resolve(header: list[str], known: dict[str, list[str]]) -> dict[str, str]:
    present = {name.strip(): name for name in header}
    mapping = {}
    for field, candidates in known.items():
        for candidate in candidates:
            if candidate in present:
                mapping[field] = present[candidate]
                break
    return mapping


def detect_mapping(header: list[str]) -> tuple[str, dict[str, str]] | None:
    """('airdata' | 'dji-txt', mapping) when the header is one we know."""
    for name, known in (("airdata", AIRDATA), ("dji-txt", DJI_TXT)):
        mapping = _resolve(header, known)
        if {"lat", "lon"} <= mapping.keys() and ({"t", "time"} & mapping.keys()):
            return name, mapping
    return None


def _unit_factor(column: str, field: str, units: dict[str, str]) -> float:
    if field not in LENGTH_FIELDS:
        return 1.0
    given = units.get(field)
    if given:
        return FEET if given.lower() in ("ft", "feet") else 1.0
    match = _UNIT_IN_HEADER.search(column)
    return FEET if match and match.group(1).lower() in ("ft", "feet") else 1.0


def _validate_mapping(mapping: dict[str, Any], header: list[str]) -> tuple[dict, dict, str]:
    if not isinstance(mapping, dict):
        raise InvalidInput("mapping must be a JSON object of field -> column")
    units = mapping.get("units", {}) or {}
    t_unit = str(mapping.get("t_unit", "s"))
    columns = {k: v for k, v in mapping.items() if k not in ("units", "t_unit")}
    for field, column in columns.items():
        if field not in MAPPABLE:
            raise InvalidInput(f"mapping: unknown field {field!r} (known: {', '.join(MAPPABLE)})")
        if column not in header:
            raise InvalidInput(f"mapping: column {column!r} for {field} is not in the CSV header")
    if not {"lat", "lon"} <= columns.keys() or not ({"t", "time"} & columns.keys()):
        raise InvalidInput("mapping must name columns for lat, lon and one of time or t")
    return columns, units, t_unit


def parse_csv(data: bytes, mapping: dict[str, Any] | None = None) -> TrackBuilder:
    """Parse a CSV flight log; the mapping is detected for AirData and DJI exports."""
    text = data.decode("utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise InvalidInput("line 1: empty CSV")
    header = [name.strip() for name in header]
    if mapping is None:
        detected = detect_mapping(header)
        if detected is None:
            raise InvalidInput(
                "line 1: unknown CSV layout (not AirData or a DJI TXT export); "
                'give a mapping, e.g. {"lat": "Latitude", "lon": "Longitude", '
                '"time": "Timestamp"}'
            )
        source, columns = detected
        units: dict[str, str] = {}
        t_unit = "ms" if source == "airdata" else "s"
    else:
        source = "csv"
        columns, units, t_unit = _validate_mapping(mapping, header)
    builder = TrackBuilder("csv")
    builder.properties["csv_layout"] = source
    index = {field: header.index(column) for field, column in columns.items()}
    factor = {field: _unit_factor(columns[field], field, units) for field in columns}
    t_scale = 0.001 if t_unit == "ms" else 1.0
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        line = reader.line_num
        values = dict.fromkeys(FIELDS, math.nan)
        for field, position in index.items():
            cell = row[position].strip() if position < len(row) else ""
            where = f"line {line}, column {columns[field]!r}"
            if field == "time":
                values["wall"] = instant(cell, where) if cell else math.nan
            else:
                values[field] = number(cell, where) * factor[field]
        if "t" in index:
            values["t"] *= t_scale
        else:
            values["t"] = values["wall"]
        if not math.isnan(values["lat"]) and not (
            -90 <= values["lat"] <= 90 and -180 <= values["lon"] <= 180
        ):
            raise InvalidInput(f"line {line}: position out of range")
        builder.rows.append(tuple(values[f] for f in FIELDS))  # type: ignore[union-attr]
    return builder
