"""Database access: engine, ORM models, queries and bulk loading."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

# A query bbox as a geometry. ST_MakeEnvelope turns a degenerate box (a point, or a line when
# minx == maxx) into an invalid polygon that ST_Intersects misses; ST_Envelope of the diagonal
# gives a valid point, line or polygon.
BBOX_PARAMS = ("xmin", "ymin", "xmax", "ymax")
BBOX_SQL = (
    "ST_SetSRID(ST_Envelope(ST_MakeLine(ST_MakePoint(:xmin, :ymin), "
    "ST_MakePoint(:xmax, :ymax))), 4326)"
)


def bbox_filter(
    column: str, bbox: tuple[float, float, float, float] | None
) -> tuple[list[str], dict]:
    """An index-friendly (`&&`, then exact) bbox condition on a geometry column, with its
    params; none without a bbox."""
    if bbox is None:
        return [], {}
    return (
        [f"{column} && {BBOX_SQL} AND ST_Intersects({column}, {BBOX_SQL})"],
        dict(zip(BBOX_PARAMS, bbox, strict=True)),
    )


def interval_filter(
    first: str, last: str, interval: tuple[datetime | None, datetime | None] | None
) -> tuple[list[str], dict]:
    """Conditions for rows spanning [first, last] (one column twice for an instant) that
    meet an open or closed time interval, with their params; none without an interval."""
    start, end = interval or (None, None)
    conditions, params = [], {}
    if start is not None:
        conditions.append(f"{last} >= :start")
        params["start"] = start
    if end is not None:
        conditions.append(f"{first} <= :end")
        params["end"] = end
    return conditions, params


def fetch_page(
    conn: Connection,
    columns: str,
    source: str,
    where: list[str],
    params: dict[str, Any],
    *,
    order: str,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """One page of rows meeting every condition, and how many rows meet them in all."""
    condition = " AND ".join(where) or "TRUE"
    total = conn.execute(text(f"SELECT count(*) FROM {source} WHERE {condition}"), params)
    rows = conn.execute(
        text(
            f"SELECT {columns} FROM {source} WHERE {condition} "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return rows, int(total.scalar_one())
