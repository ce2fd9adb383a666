"""Repair invalid landmark geometries stored before inserts repaired them.

Real OSM outlines self-intersect; the spatial queries (`visible`, events) fail in GEOS on
such geometries. New inserts are repaired by the application; this makes the rows already
stored valid the same way (`ST_MakeValid`, flagged `geometry_repaired`). Downgrading keeps
the repaired geometries: the originals were unusable.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE features SET geom = ST_MakeValid(geom), "
        "properties = properties || '{\"geometry_repaired\": true}'::jsonb "
        "WHERE NOT ST_IsValid(geom)"
    )


def downgrade() -> None:
    pass  # nothing to undo: the repaired geometries stay
