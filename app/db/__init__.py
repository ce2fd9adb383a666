"""Database access: engine, ORM models, queries and bulk loading."""

# A query bbox as a geometry. ST_MakeEnvelope turns a degenerate box (a point, or a line when
# minx == maxx) into an invalid polygon that ST_Intersects misses; ST_Envelope of the diagonal
# gives a valid point, line or polygon.
BBOX_SQL = (
    "ST_SetSRID(ST_Envelope(ST_MakeLine(ST_MakePoint(:xmin, :ymin), "
    "ST_MakePoint(:xmax, :ymax))), 4326)"
)
