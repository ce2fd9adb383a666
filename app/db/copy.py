"""Bulk loading: numpy columns encoded straight into PostgreSQL's binary COPY format.

A binary COPY stream is a header, then per row a field count and, per field, a length (-1 for
NULL) and big-endian bytes. Every column skyspace bulk-loads has a fixed width (float8, int4,
int8, timestamptz, and a point as 33 bytes of EWKB), so all rows that share the same NULL
pattern have one layout: they are encoded as one numpy structured array, with no Python loop
per row. Rows are grouped by NULL pattern (order does not matter to a table).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds
_POINTZ_EWKB = 0xA0000001  # Point | has Z | has SRID
_POINT_EWKB = 0x20000001  # Point | has SRID
_POLYGON_EWKB = 0x20000003  # Polygon | has SRID


@dataclass(frozen=True)
class Column:
    """One column of a COPY: its name, its binary kind, and the values (NaN = NULL for floats)."""

    name: str
    kind: str  # "float8", "int4", "int8", "timestamptz" (epoch s), "pointz", "point", "polygon"
    values: np.ndarray  # 1-D; (n, 3) / (n, 2) lon-lat(-z) for points; (n, k, 2) open rings

    @property
    def width(self) -> int:
        """Bytes of one value."""
        if self.kind == "polygon":  # header, srid, ring count, point count, closed ring
            return 1 + 4 + 4 + 4 + 4 + 16 * (self.values.shape[1] + 1)
        return _WIDTH[self.kind]


_WIDTH = {"float8": 8, "int4": 4, "int8": 8, "timestamptz": 8, "bool": 1, "pointz": 33, "point": 25}


def _null_mask(column: Column) -> np.ndarray:
    values = column.values
    if column.kind in ("pointz", "point"):
        return ~np.isfinite(values).all(axis=1)
    if column.kind == "polygon":
        return ~np.isfinite(values).all(axis=(1, 2))
    if values.dtype.kind == "f":
        return ~np.isfinite(values)
    return np.zeros(values.shape[0], dtype=bool)


def _field_dtype(column: Column, index: int) -> list[tuple[str, str]]:
    fields = [(f"len{index}", ">i4")]
    if column.kind == "float8":
        fields.append((f"v{index}", ">f8"))
    elif column.kind == "int4":
        fields.append((f"v{index}", ">i4"))
    elif column.kind in ("int8", "timestamptz"):
        fields.append((f"v{index}", ">i8"))
    elif column.kind == "bool":
        fields.append((f"v{index}", "u1"))
    elif column.kind == "polygon":  # EWKB polygon with one ring of a fixed point count
        fields += [(f"bo{index}", "u1"), (f"type{index}", "<u4"), (f"srid{index}", "<u4")]
        fields += [(f"rings{index}", "<u4"), (f"points{index}", "<u4")]
        fields += [(f"ring{index}", "<f8", (column.values.shape[1] + 1, 2))]
    else:  # EWKB point, little-endian inside as its byte-order flag says
        fields += [(f"bo{index}", "u1"), (f"type{index}", "<u4"), (f"srid{index}", "<u4")]
        fields += [(f"x{index}", "<f8"), (f"y{index}", "<f8")]
        if column.kind == "pointz":
            fields.append((f"z{index}", "<f8"))
    return fields


def _fill(record: np.ndarray, column: Column, index: int, rows: np.ndarray) -> None:
    record[f"len{index}"] = column.width
    values = column.values[rows]
    if column.kind == "timestamptz":
        record[f"v{index}"] = np.round(values * 1e6).astype(np.int64) - _PG_EPOCH_US
    elif column.kind in ("float8", "int4", "int8", "bool"):
        record[f"v{index}"] = values
    elif column.kind == "polygon":
        record[f"bo{index}"] = 1
        record[f"type{index}"] = _POLYGON_EWKB
        record[f"srid{index}"] = 4326
        record[f"rings{index}"] = 1
        record[f"points{index}"] = values.shape[1] + 1
        record[f"ring{index}"] = np.concatenate([values, values[:, :1]], axis=1)
    else:
        record[f"bo{index}"] = 1
        record[f"type{index}"] = _POINTZ_EWKB if column.kind == "pointz" else _POINT_EWKB
        record[f"srid{index}"] = 4326
        record[f"x{index}"] = values[:, 0]
        record[f"y{index}"] = values[:, 1]
        if column.kind == "pointz":
            record[f"z{index}"] = values[:, 2]


def encode(columns: Sequence[Column], chunk_rows: int = 200_000) -> Iterator[bytes]:
    """The binary COPY stream (header, rows, trailer) for equally long columns."""
    yield HEADER
    nulls = np.stack([_null_mask(c) for c in columns], axis=1)
    codes = nulls.astype(np.int64) @ (1 << np.arange(len(columns), dtype=np.int64))
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code)
        pattern = nulls[members[0]]
        fields: list[tuple[str, str]] = [("count", ">i2")]
        for index, (column, is_null) in enumerate(zip(columns, pattern, strict=True)):
            fields += [(f"len{index}", ">i4")] if is_null else _field_dtype(column, index)
        dtype = np.dtype(fields)
        for start in range(0, members.size, chunk_rows):
            rows = members[start : start + chunk_rows]
            record = np.empty(rows.size, dtype=dtype)
            record["count"] = len(columns)
            for index, (column, is_null) in enumerate(zip(columns, pattern, strict=True)):
                if is_null:
                    record[f"len{index}"] = -1
                else:
                    _fill(record, column, index, rows)
            yield record.tobytes()
    yield TRAILER


def copy_rows(conn: Any, table: str, columns: Sequence[Column]) -> None:
    """Binary COPY of the columns into a table, over a SQLAlchemy connection's psycopg one."""
    names = ", ".join(c.name for c in columns)
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        for chunk in encode(columns):
            copy.write(chunk)
