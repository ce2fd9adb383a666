"""Parsers that turn telemetry files into normalised samples (no database code here).

`parse_file(data, filename, fmt)` picks the parser (given, or detected from the name and the
content) and returns a `TrackBuilder`; its `build()` gives the `Track`.
"""

from __future__ import annotations

from typing import Any

from app.errors import InvalidInput
from app.ingest.csvlog import parse_csv
from app.ingest.photos import parse_photo_zip
from app.ingest.srt import looks_like_srt, parse_srt
from app.ingest.track import Track, TrackBuilder
from app.ingest.tracks import parse_geojson, parse_gpx, parse_kml

FORMATS = ("srt", "csv", "gpx", "geojson", "kml", "photos")
_EXTENSIONS = {
    ".srt": "srt",
    ".csv": "csv",
    ".txt": "csv",
    ".gpx": "gpx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".kml": "kml",
    ".zip": "photos",
}

__all__ = ["FORMATS", "Track", "TrackBuilder", "detect_format", "parse_file"]


def detect_format(data: bytes, filename: str = "") -> str:
    """The telemetry format of a file, from its name, else from its first bytes."""
    lower = filename.lower()
    for extension, fmt in _EXTENSIONS.items():
        if lower.endswith(extension):
            return fmt
    head = data[:4096]
    if head.startswith(b"PK\x03\x04"):
        return "photos"
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("<"):
        if "<gpx" in text:
            return "gpx"
        if "<kml" in text:
            return "kml"
    if text.startswith("{"):
        return "geojson"
    if looks_like_srt("\n" + text):
        return "srt"
    if "," in text.split("\n", 1)[0] or ";" in text.split("\n", 1)[0]:
        return "csv"
    raise InvalidInput(
        f"cannot tell the format of {filename or 'this file'}; give format= one of "
        + ", ".join(FORMATS),
        code="unknown_format",
    )


def parse_file(
    data: bytes, filename: str = "", fmt: str | None = None, mapping: dict[str, Any] | None = None
) -> TrackBuilder:
    """Parse a telemetry file of the given (or detected) format."""
    fmt = fmt or detect_format(data, filename)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if mapping is not None and fmt != "csv":
        raise InvalidInput("a column mapping only applies to CSV files")
    if fmt == "srt":
        return parse_srt(data)
    if fmt == "csv":
        return parse_csv(data, mapping)
    if fmt == "gpx":
        return parse_gpx(data)
    if fmt == "geojson":
        return parse_geojson(data)
    if fmt == "kml":
        return parse_kml(data)
    return parse_photo_zip(data)
