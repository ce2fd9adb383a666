"""Geotagged photos: a zip of JPEGs, one sample per photo from EXIF GPS and DJI XMP.

EXIF gives the position (GPS IFD), the time (DateTimeOriginal, camera clock taken as UTC) and
the camera (Model, image size, focal lengths); DJI's XMP block gives the attitude
(`FlightYawDegree`, `GimbalPitchDegree`, ...) and the altitudes (`RelativeAltitude`,
`AbsoluteAltitude`).
"""

from __future__ import annotations

import calendar
import io
import math
import re
import zipfile

from PIL import Image, UnidentifiedImageError

from app.errors import InvalidInput, TooLarge
from app.ingest.track import FIELDS, TrackBuilder

_XMP_ATTRIBUTE = re.compile(rb'drone-dji:(\w+)="([^"]*)"')
_XMP_ELEMENT = re.compile(rb"<drone-dji:(\w+)>([^<]*)</drone-dji:\1>")
_XMP_FIELDS = {
    "AbsoluteAltitude": "alt_msl",
    "RelativeAltitude": "alt_takeoff",
    "FlightYawDegree": "yaw",
    "FlightPitchDegree": "pitch",
    "FlightRollDegree": "roll",
    "GimbalYawDegree": "gimbal_yaw",
    "GimbalPitchDegree": "gimbal_pitch",
    "GimbalRollDegree": "gimbal_roll",
}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
MAX_PHOTOS = 20_000


def _degrees(dms: tuple, ref: str) -> float:
    value = float(dms[0]) + float(dms[1]) / 60.0 + float(dms[2]) / 3600.0
    return -value if ref in ("S", "W") else value


def _exif_time(text: str, subsec: str | None) -> float:
    date, _, clock = text.strip().partition(" ")
    year, month, day = (int(p) for p in date.split(":"))
    hour, minute, second = (int(p) for p in clock.split(":"))
    fraction = float("0." + subsec.strip()) if subsec and subsec.strip().isdigit() else 0.0
    return calendar.timegm((year, month, day, hour, minute, second)) + fraction


def read_photo(data: bytes, name: str) -> tuple[dict[str, float], dict[str, object]]:
    """Pose fields and camera facts of one geotagged JPEG."""
    try:
        image = Image.open(io.BytesIO(data))
        exif = image.getexif()
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInput(f"{name}: not a readable JPEG ({exc})") from None
    gps = exif.get_ifd(GPS_IFD)
    if 2 not in gps or 4 not in gps:
        raise InvalidInput(f"{name}: no GPS position in EXIF")
    details = exif.get_ifd(EXIF_IFD)
    original = details.get(36867) or exif.get(306)
    if not original:
        raise InvalidInput(f"{name}: no DateTimeOriginal in EXIF")
    try:
        wall = _exif_time(str(original), details.get(37521))
    except ValueError:
        raise InvalidInput(f"{name}: unreadable DateTimeOriginal {original!r}") from None
    values = {
        "wall": wall,
        "t": wall,
        "lat": _degrees(gps[2], str(gps.get(1, "N"))),
        "lon": _degrees(gps[4], str(gps.get(3, "E"))),
    }
    if 6 in gps:
        below = gps.get(5) in (b"\x01", 1)
        values["alt_msl"] = -float(gps[6]) if below else float(gps[6])
    xmp = dict(_XMP_ATTRIBUTE.findall(data)) | dict(_XMP_ELEMENT.findall(data))
    for key, field in _XMP_FIELDS.items():
        raw = xmp.get(key.encode())
        if raw is not None:
            try:
                values[field] = float(raw)
            except ValueError:
                raise InvalidInput(f"{name}: XMP {key} is not a number: {raw!r}") from None
    camera = {
        "model": str(exif.get(272, "")).strip("\x00 ") or None,
        "width": image.width,
        "height": image.height,
        "focal_mm": float(details[37386]) if 37386 in details else None,
        "focal35_mm": float(details[41989]) if details.get(41989) else None,
    }
    return values, camera


def parse_photo_zip(data: bytes) -> TrackBuilder:
    """One sample per JPEG in the zip, ordered by capture time."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidInput("not a zip archive of photos") from None
    names = sorted(
        n
        for n in archive.namelist()
        if n.lower().endswith((".jpg", ".jpeg")) and not n.startswith("__MACOSX")
    )
    if not names:
        raise InvalidInput("the zip holds no .jpg photos")
    if len(names) > MAX_PHOTOS:
        raise TooLarge(f"the zip holds {len(names)} photos (at most {MAX_PHOTOS})")
    photos = []
    for name in names:
        values, camera = read_photo(archive.read(name), name)
        photos.append((values["wall"], name, values, camera))
    photos.sort(key=lambda item: (item[0], item[1]))
    builder = TrackBuilder("photos")
    for index, (_, _, values, _) in enumerate(photos, start=1):
        values["frame"] = float(index)
        builder.rows.append(tuple(values.get(f, math.nan) for f in FIELDS))  # type: ignore[union-attr]
    first_camera = photos[0][3]
    builder.camera_model = first_camera.get("model")  # type: ignore[assignment]
    builder.properties["photos"] = [name for _, name, _, _ in photos]
    builder.properties["exif_camera"] = first_camera
    return builder
