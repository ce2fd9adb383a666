"""The normalised form every parser produces: a table of samples, one row a pose.

Columns are float64 with NaN for "not in the file". Parsers append rows in `FIELDS` order
to a `TrackBuilder`; `build()` drops records without a GPS fix and records whose time does not
advance (counting both), sets `t` to seconds since the first sample, and fills the wall clock.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.errors import InvalidInput

# the row layout every parser appends (t = the file's own clock, e.g. the subtitle cue, seconds)
FIELDS = (
    "t",
    "wall",  # UTC epoch seconds from the file's date, NaN when absent
    "lon",
    "lat",
    "alt_agl",
    "alt_takeoff",
    "alt_msl",
    "yaw",
    "pitch",
    "roll",
    "gimbal_yaw",
    "gimbal_pitch",
    "gimbal_roll",
    "frame",
    "focal35_mm",
    "zoom",
)
COLUMN = {name: index for index, name in enumerate(FIELDS)}
NAN = float("nan")
ANGLE_FIELDS = ("yaw", "gimbal_yaw")


@dataclass
class Track:
    """Samples of one flight as an (N, len(FIELDS)) array, plus what the parser learned."""

    rows: np.ndarray
    source_format: str
    dropped: dict[str, int] = field(default_factory=dict)
    camera_model: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def column(self, name: str) -> np.ndarray:
        """One column by name (a view)."""
        return self.rows[:, COLUMN[name]]

    def has(self, name: str) -> bool:
        """True when at least one sample has a value in this column."""
        return bool(np.isfinite(self.column(name)).any())

    @property
    def dropped_count(self) -> int:
        """How many records of the file were not kept."""
        return sum(self.dropped.values())


class TrackBuilder:
    """Collects rows from a parser and turns them into a `Track`."""

    def __init__(self, source_format: str) -> None:
        self.source_format = source_format
        self.rows: list[tuple[float, ...]] | np.ndarray = []
        self.dropped: dict[str, int] = {}
        self.camera_model: str | None = None
        self.properties: dict[str, Any] = {}

    def drop(self, reason: str, count: int = 1) -> None:
        """Count a record that is not kept, by reason."""
        self.dropped[reason] = self.dropped.get(reason, 0) + count

    def build(self, start_time: datetime | None = None) -> Track:
        """Validate and normalise the collected rows (see the module docstring)."""
        if len(self.rows) == 0:
            raise InvalidInput(f"no samples found in this {self.source_format} file", code="empty")
        rows = np.asarray(self.rows, dtype=np.float64)
        _check_ranges(rows, self.source_format)
        no_fix = (rows[:, COLUMN["lon"]] == 0.0) & (rows[:, COLUMN["lat"]] == 0.0)
        no_fix |= ~np.isfinite(rows[:, COLUMN["lon"]]) | ~np.isfinite(rows[:, COLUMN["lat"]])
        if no_fix.any():
            self.drop("no_gps_fix", int(no_fix.sum()))
            rows = rows[~no_fix]
        if rows.shape[0]:
            t = rows[:, COLUMN["t"]]
            advancing = t > np.concatenate(([-np.inf], np.maximum.accumulate(t)[:-1]))
            if not advancing.all():
                self.drop("time_not_increasing", int((~advancing).sum()))
                rows = rows[advancing]
        if not rows.shape[0]:
            raise InvalidInput(
                f"no usable samples in this {self.source_format} file "
                f"(dropped: {', '.join(f'{k} {v}' for k, v in self.dropped.items())})",
                code="empty",
            )
        offset = float(rows[0, COLUMN["t"]])
        rows[:, COLUMN["t"]] -= offset
        properties = dict(self.properties)
        properties["time_source"] = _fill_wall_clock(rows, start_time)
        for name in ANGLE_FIELDS:
            rows[:, COLUMN[name]] %= 360.0
        if offset:
            properties["clock_offset_s"] = offset
        return Track(rows, self.source_format, dict(self.dropped), self.camera_model, properties)


def _fill_wall_clock(rows: np.ndarray, start_time: datetime | None) -> str:
    """Give every row a UTC time: its own, or an anchor plus `t`; say where it came from."""
    wall = rows[:, COLUMN["wall"]]
    t = rows[:, COLUMN["t"]]
    known = np.flatnonzero(np.isfinite(wall))
    if start_time is not None:
        anchor = start_time.astimezone(UTC).timestamp()
        wall[:] = anchor + t
        return "given"
    if known.size:
        anchor = wall[known[0]] - t[known[0]]
        missing = ~np.isfinite(wall)
        wall[missing] = anchor + t[missing]
        return "file"
    wall[:] = _time.time() + t
    return "ingest"


def _check_ranges(rows: np.ndarray, source_format: str) -> None:
    """Every position must be on Earth (the parsers name lines; this is the backstop)."""
    lon, lat = rows[:, COLUMN["lon"]], rows[:, COLUMN["lat"]]
    bad = (np.abs(lat) > 90.0) | (np.abs(lon) > 180.0)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InvalidInput(
            f"{source_format} record {index + 1}: position (lon {lon[index]}, "
            f"lat {lat[index]}) is out of range"
        )


def line_number(text: str, position: int) -> int:
    """1-based line number of a character position."""
    return text.count("\n", 0, position) + 1
