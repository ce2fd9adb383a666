"""Database access: engine, ORM models, queries and bulk loading."""

# A query bbox as a geometry. ST_MakeEnvelope turns a degenerate box (a point, or a line when
# minx == maxx) into an invalid polygon that ST_Intersects misses; ST_Envelope of the diagonal
# gives a valid point, line or polygon.
BBOX_PARAMS = ("xmin", "ymin", "xmax", "ymax")
BBOX_SQL = (
    "ST_SetSRID(ST_Envelope(ST_MakeLine(ST_MakePoint(:xmin, :ymin), "
    "ST_MakePoint(:xmax, :ymax))), 4326)"
)


def bbox_filter(column: str, bbox: tuple[float, float, float, float]) -> tuple[str, dict]:
    """An index-friendly (`&&`, then exact) bbox condition on a geometry column, with its params."""
    return (
        f"{column} && {BBOX_SQL} AND ST_Intersects({column}, {BBOX_SQL})",
        dict(zip(BBOX_PARAMS, bbox, strict=True)),
    )
