"""DJI SRT subtitle telemetry: every variant DJI has written since the Mavic Pro.

A file is a series of subtitle cues (index, `start --> end`, text). The text holds the
telemetry in one of several dialects, which may even be mixed in one file:

- legacy: `GPS(lon,lat,sats) BAROMETER:h` (Mavic Pro, Phantom 4), `HOME(...) 2017.08.05 14:11:51`;
  Matrice 300 legacy writes `GPS(lat,lon,altM)`: the `M` suffix marks latitude first;
  `GPS(N/A,N/A,3)` before the GPS has a fix;
- `GPS (lon, lat, sats), D 221.2m, H 200.7m` (Mavic Mini), with `F.PRY (p°, r°, y°)` and
  `G.PRY (...)` for the aircraft and the gimbal on the Phantom 4 RTK;
- bracketed: `[latitude: 41.42] [longitude: 2.23] [rel_alt: 1.2 abs_alt: 120.1]` (also the
  misspelt `longtitude`), `[altitude: 117.0]`, `[gb_yaw: ...]`, `[drone_yaw: ...]`,
  `[Drone: Yaw:..., Pitch:..., Roll:...]`, `[focal_len: 240]` (35 mm equivalent, × 10 when
  written without a decimal point), `[dzoom_ratio: ...]`, and the wall clock on its own line
  (`2022-08-07 13:40:40,774,808`: milliseconds, then microseconds).

The parser is columnar: each telemetry field is found across the whole text with one regular
expression and placed in its cue by position, so a one-hour 30 fps file parses in about a second.
The video time of each sample is the cue's start; the wall clock comes from the date line.
"""

from __future__ import annotations

import re

import numpy as np

from app.errors import InvalidInput
from app.ingest.track import COLUMN, FIELDS, TrackBuilder, line_number

NUM = r"([-+]?\d+(?:\.\d+)?)"
# every pattern starts with a literal so that the scan skips ahead in C; the text is given a
# leading newline so the first cue is found by the same pattern as the others
_CUE = re.compile(r"\n[ \t]*(\d+)[ \t]*\n[ \t]*(\d+):(\d\d):(\d\d)[,.](\d{1,3})[ \t]*-->[^\n]*")
_SIMPLE = {  # field -> pattern whose one group is the value (a literal prefix keeps scans fast)
    "lat": r"latitude\s*:\s*" + NUM,
    "lon": r"longt?itude\s*:\s*" + NUM,
    "alt_takeoff": r"rel_alt\s*:\s*" + NUM,
    "alt_msl": r"abs_alt\s*:\s*" + NUM,
    "gimbal_yaw": r"gb_yaw\s*:\s*" + NUM,
    "gimbal_pitch": r"gb_pitch\s*:\s*" + NUM,
    "gimbal_roll": r"gb_roll\s*:\s*" + NUM,
    "yaw": r"drone_yaw\s*:\s*" + NUM,
    "pitch": r"drone_pitch\s*:\s*" + NUM,
    "roll": r"drone_roll\s*:\s*" + NUM,
    "zoom": r"dzoom_ratio\s*:\s*" + NUM,
    "frame": r"FrameCnt\s*:\s*" + NUM,
}
_SRT_COUNT = re.compile(r"SrtCnt\s*:\s*" + NUM)
_SIMPLE_RE = {name: re.compile(pattern) for name, pattern in _SIMPLE.items()}
# fields DJI writes side by side: one scan fills them all when every cue has them
_GROUPS = (
    (
        ("lat", "lon"),
        re.compile(r"latitude\s*:\s*" + NUM + r"\s*\]?\s*\[?\s*longt?itude\s*:\s*" + NUM),
    ),
    (("alt_takeoff", "alt_msl"), re.compile(r"rel_alt\s*:\s*" + NUM + r"\s+abs_alt\s*:\s*" + NUM)),
    (
        ("gimbal_yaw", "gimbal_pitch", "gimbal_roll"),
        re.compile(
            r"gb_yaw\s*:\s*" + NUM + r"\s+gb_pitch\s*:\s*" + NUM + r"\s+gb_roll\s*:\s*" + NUM
        ),
    ),
)
_ALTITUDE = re.compile(r"\[altitude\s*:\s*" + NUM)  # Air 2 / Air 2S: above sea level
_BAROMETER = re.compile(r"BAROMETER\s*:\s*" + NUM)
_HEIGHT = re.compile(r", H\s+" + NUM + r"\s*m")
_FOCAL = re.compile(r"focal_len\s*:\s*(\d+)(\.\d+)?")
_GPS = re.compile(
    r"GPS\s*\(\s*([-+]?\d+(?:\.\d+)?|N/?A)\s*,\s*([-+]?\d+(?:\.\d+)?|N/?A)\s*"
    r"(?:,\s*[-+]?\d+(?:\.\d+)?\s*(M?)\s*)?\)"
)
_PRY = {
    prefix: re.compile(
        letter + r"\.PRY\s*\(\s*" + NUM + r"°?\s*,\s*" + NUM + r"°?\s*,\s*" + NUM + r"°?\s*\)"
    )
    for letter, prefix in (("F", ""), ("G", "gimbal_"))
}
_SECTION = {
    prefix: re.compile(
        r"\[\s*"
        + word
        + r"\s*:\s*Yaw\s*:\s*"
        + NUM
        + r"\s*,\s*Pitch\s*:\s*"
        + NUM
        + r"\s*,\s*Roll\s*:\s*"
        + NUM
    )
    for word, prefix in (("Drone", ""), ("Gimbal", "gimbal_"))
}
_DATE_TAIL = r"(\d{4}[-./]\d\d[-./]\d\d[ T]\d\d:\d\d:\d\d)(?:[,.](\d{1,3}))?(?:[,.](\d{1,3}))?"
_DATES = (  # a date line of its own, or after HOME(...) on legacy files
    re.compile(r"\n[ \t]*" + _DATE_TAIL),
    re.compile(r"HOME\s*\([^)\n]*\)\s*" + _DATE_TAIL),
)
_POSITION_HINT = re.compile(r"GPS|latitude|longt?itude", re.IGNORECASE)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (BOM dropped) or Latin-1, with `\\n` line ends."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def looks_like_srt(text: str) -> bool:
    """True when the text starts like a subtitle file."""
    return _CUE.search(text[:2000]) is not None


class _Cues:
    """The cues of a text, and where each starts, to place a match found in its cue."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.groups = _CUE.findall(text)
        self._starts: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def starts(self) -> np.ndarray:
        """Character offset of every cue (found only when a file needs it)."""
        if self._starts is None:
            self._starts = np.fromiter(
                (m.start() for m in _CUE.finditer(self.text)), np.int64, len(self.groups)
            )
        return self._starts

    def place(self, pattern: re.Pattern[str]) -> tuple[np.ndarray, list]:
        """Cue index and groups of every match of `pattern` (the last match in a cue wins)."""
        found = pattern.findall(self.text)
        if not found:
            return np.zeros(0, dtype=np.int64), []
        if len(found) == len(self.groups):
            return np.arange(len(found)), found  # one per cue: the common case
        positions, groups = [], []
        for match in pattern.finditer(self.text):
            positions.append(match.start())
            groups.append(match.groups() if pattern.groups > 1 else match.group(1))
        index = np.searchsorted(self.starts, np.asarray(positions, dtype=np.int64), "right") - 1
        keep = index >= 0  # matches before the first cue belong to no sample
        return index[keep], [g for g, k in zip(groups, keep, strict=True) if k]

    def line_of(self, cue: int) -> int:
        """The line number of a cue's index line (the text starts with an added newline)."""
        return line_number(self.text, int(self.starts[cue]) + 1) - 1

    def block(self, cue: int) -> tuple[int, str]:
        """Offset and text of a cue's telemetry."""
        match = _CUE.match(self.text, int(self.starts[cue]))
        start = match.end() if match else int(self.starts[cue])
        end = int(self.starts[cue + 1]) if cue + 1 < len(self) else len(self.text)
        return start, self.text[start:end]


def parse_srt(data: bytes) -> TrackBuilder:
    """Parse a DJI SRT file into a TrackBuilder (call `.build()` for the Track)."""
    text = "\n" + decode(data)
    cues = _Cues(text)
    if not len(cues):
        raise InvalidInput("line 1: no subtitle cues (an index line, then 'hh:mm:ss,mmm --> ...')")
    if text.count("-->") != len(cues):
        _raise_bad_cue(text, cues)
    rows = np.full((len(cues), len(FIELDS)), np.nan)
    _cue_times(cues, rows)
    no_fix = _gps_tuples(cues, rows)
    complete: set[str] = set()
    for names, pattern in _GROUPS:
        index, groups = cues.place(pattern)
        if len(groups):
            values = np.asarray(groups, dtype=np.float64).reshape(-1, len(names))
            for position, name in enumerate(names):
                rows[index, COLUMN[name]] = values[:, position]
            if len(groups) == len(cues):
                complete.update(names)
    for name, pattern in _SIMPLE_RE.items():
        if name not in complete:
            _fill(cues, pattern, rows[:, COLUMN[name]])
    _fill(cues, _ALTITUDE, rows[:, COLUMN["alt_msl"]])
    _fill(cues, _BAROMETER, rows[:, COLUMN["alt_takeoff"]])
    _fill(cues, _HEIGHT, rows[:, COLUMN["alt_takeoff"]])
    _fill(cues, _SRT_COUNT, rows[:, COLUMN["frame"]])
    _focal(cues, rows)
    for prefix, pattern in _PRY.items():
        _angles(cues, pattern, rows, prefix, ("pitch", "roll", "yaw"))
    for prefix, pattern in _SECTION.items():
        _angles(cues, pattern, rows, prefix, ("yaw", "pitch", "roll"))
    _wall_clock(cues, rows)
    zoom = rows[:, COLUMN["zoom"]]
    zoom[zoom > 100] /= 10000.0  # some models write the ratio × 10000

    frames = rows[:, COLUMN["frame"]]
    missing_frame = np.isnan(frames)
    frames[missing_frame] = np.flatnonzero(missing_frame) + 1  # the cue's position
    _check_positions(cues, rows, no_fix)
    builder = TrackBuilder("srt")
    rows[no_fix, COLUMN["lon"]] = np.nan
    builder.rows = rows  # type: ignore[assignment]
    return builder


def _fill(cues: _Cues, pattern: re.Pattern[str], column: np.ndarray) -> None:
    index, values = cues.place(pattern)
    if len(values):
        column[index] = np.asarray(values, dtype=np.float64)


def _cue_times(cues: _Cues, rows: np.ndarray) -> None:
    parts = np.asarray(cues.groups)
    millis = np.char.ljust(parts[:, 4], 3, "0").astype(np.float64)
    seconds = parts[:, 1:4].astype(np.float64) @ np.array([3600.0, 60.0, 1.0])
    rows[:, COLUMN["t"]] = seconds + millis / 1000.0


def _gps_tuples(cues: _Cues, rows: np.ndarray) -> np.ndarray:
    """Fill lon/lat from `GPS(...)` tuples; return the mask of cues with `N/A` (no fix)."""
    no_fix = np.zeros(len(cues), dtype=bool)
    index, groups = cues.place(_GPS)
    if not len(groups):
        return no_fix
    parts = np.asarray(groups, dtype=object).reshape(-1, 3)
    unavailable = np.array([a[0] == "N" or b[0] == "N" for a, b, _ in parts])
    first = np.where(unavailable, "nan", parts[:, 0]).astype(np.float64)
    second = np.where(unavailable, "nan", parts[:, 1]).astype(np.float64)
    latitude_first = parts[:, 2] == "M"
    rows[index, COLUMN["lat"]] = np.where(latitude_first, first, second)
    rows[index, COLUMN["lon"]] = np.where(latitude_first, second, first)
    no_fix[index[unavailable]] = True
    return no_fix


def _focal(cues: _Cues, rows: np.ndarray) -> None:
    index, groups = cues.place(_FOCAL)
    if len(groups):
        whole = np.asarray([g[0] for g in groups], dtype=np.float64)
        has_decimals = np.asarray([bool(g[1]) for g in groups])
        fraction = np.asarray([g[1] or "0" for g in groups], dtype=np.float64)
        rows[index, COLUMN["focal35_mm"]] = np.where(has_decimals, whole + fraction, whole / 10.0)


def _angles(
    cues: _Cues, pattern: re.Pattern[str], rows: np.ndarray, prefix: str, order: tuple[str, ...]
) -> None:
    index, groups = cues.place(pattern)
    if len(groups):
        values = np.asarray(groups, dtype=np.float64).reshape(-1, 3)
        for position, name in enumerate(order):
            rows[index, COLUMN[prefix + name]] = values[:, position]


def _wall_clock(cues: _Cues, rows: np.ndarray) -> None:
    for pattern in _DATES:
        index, groups = cues.place(pattern)
        if len(groups):
            rows[index, COLUMN["wall"]] = _epochs(groups)


def _epochs(groups: list) -> np.ndarray:
    """UTC epoch seconds of date matches (the file's clock is taken as UTC)."""
    parts = np.asarray(groups, dtype=object).reshape(-1, 3)
    stamps = np.asarray(parts[:, 0], dtype=str)
    if "." in stamps[0][:8] or "/" in stamps[0][:8]:  # 2017.08.05 or 2017/08/05
        stamps = np.char.replace(np.char.replace(stamps, ".", "-"), "/", "-")
    try:
        seconds = stamps.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    except ValueError as exc:
        raise InvalidInput(f"unreadable date in the telemetry: {exc}") from exc
    millis = np.asarray(["0." + (g or "0") for g in parts[:, 1]], dtype=np.float64)
    micros = np.asarray([g or "0" for g in parts[:, 2]], dtype=np.float64) / 1e6
    return seconds + millis + micros


def _check_positions(cues: _Cues, rows: np.ndarray, no_fix: np.ndarray) -> None:
    lon, lat = rows[:, COLUMN["lon"]], rows[:, COLUMN["lat"]]
    missing = (np.isnan(lon) | np.isnan(lat)) & ~no_fix
    if missing.any():
        _raise_no_position(cues, int(np.flatnonzero(missing)[0]))
    bad = ~no_fix & ((np.abs(lat) > 90.0) | (np.abs(lon) > 180.0))
    if bad.any():
        cue = int(np.flatnonzero(bad)[0])
        raise InvalidInput(
            f"line {cues.line_of(cue)}: subtitle {cues.groups[cue][0]}: position "
            f"(lon {lon[cue]}, lat {lat[cue]}) is out of range"
        )


def _raise_no_position(cues: _Cues, cue: int) -> None:
    start, block = cues.block(cue)
    hint = _POSITION_HINT.search(block)
    if hint:
        snippet = block[hint.start() :].split("\n", 1)[0][:80]
        line = line_number(cues.text, start + hint.start()) - 1
        raise InvalidInput(f"line {line}: unreadable position: {snippet!r}")
    raise InvalidInput(
        f"line {cues.line_of(cue)}: subtitle {cues.groups[cue][0]} has no GPS position"
    )


def _raise_bad_cue(text: str, cues: _Cues) -> None:
    arrows = {text.index("-->", int(start)) for start in cues.starts}
    position = text.find("-->")
    while position != -1 and position in arrows:
        position = text.find("-->", position + 3)
    line = line_number(text, max(position, 0)) - 1
    raise InvalidInput(
        f"line {line}: malformed subtitle cue "
        "(expected an index line, then 'hh:mm:ss,mmm --> hh:mm:ss,mmm')"
    )
