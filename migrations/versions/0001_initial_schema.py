"""Initial schema: PostGIS, scenes, flights, samples, footprints, features.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _geom(kind: str) -> Geometry:
    return Geometry(kind, srid=4326, spatial_index=False)


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _gist(table: str, column: str) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], postgresql_using="gist")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "scenes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True)),
        sa.Column("footprint", _geom("POLYGON"), nullable=False),
        sa.Column("crs", sa.Text, nullable=False),
        sa.Column("resolution_m", sa.Double, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("band_count", sa.Integer, nullable=False),
        sa.Column("dtype", sa.Text, nullable=False),
        sa.Column("nodata", sa.Double),
        sa.Column("is_cog", sa.Boolean, nullable=False),
        sa.Column("converted", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("version", sa.Integer, server_default="1", nullable=False),
        sa.Column("properties", JSONB, server_default="{}", nullable=False),
        _created_at(),
        sa.CheckConstraint("kind IN ('satellite', 'aerial', 'dem')", name="scenes_kind_check"),
    )
    _gist("scenes", "footprint")
    op.create_index("ix_scenes_acquired_at", "scenes", ["acquired_at"])

    op.create_table(
        "flights",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source_format", sa.Text, nullable=False),
        sa.Column("camera", JSONB),
        sa.Column("camera_model", sa.Text),
        sa.Column("altitude_reference", sa.Text, nullable=False),
        sa.Column("takeoff_elevation", sa.Double),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sample_count", sa.Integer, nullable=False),
        sa.Column("dropped_count", sa.Integer, server_default="0", nullable=False),
        sa.Column("length_m", sa.Double, nullable=False),
        sa.Column("path", _geom("LINESTRINGZ"), nullable=False),
        sa.Column("properties", JSONB, server_default="{}", nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "altitude_reference IN ('agl', 'takeoff', 'msl')",
            name="flights_altitude_reference_check",
        ),
    )
    _gist("flights", "path")
    op.create_index("ix_flights_start_time", "flights", ["start_time"])

    op.create_table(
        "samples",
        sa.Column("flight_id", sa.BigInteger, nullable=False),
        sa.Column("t", sa.Double, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", _geom("POINTZ"), nullable=False),
        *(
            sa.Column(name, sa.Double)
            for name in (
                "alt_agl",
                "alt_takeoff",
                "alt_msl",
                "yaw",
                "pitch",
                "roll",
                "gimbal_yaw",
                "gimbal_pitch",
                "gimbal_roll",
            )
        ),
        sa.Column("frame", sa.Integer),
        sa.Column("focal35_mm", sa.Double),
        sa.Column("zoom", sa.Double),
        # the primary key is the (flight_id, t) btree the pose look-ups use
        sa.PrimaryKeyConstraint("flight_id", "t", name="samples_pkey"),
    )
    _gist("samples", "geom")

    op.create_table(
        "footprints",
        sa.Column("flight_id", sa.BigInteger, nullable=False),
        sa.Column("t", sa.Double, nullable=False),
        sa.Column("polygon", _geom("POLYGON"), nullable=False),
        sa.Column("partial", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("camera_ground", _geom("POINT")),
        sa.Column("center_ground", _geom("POINT")),
        sa.Column("gsd_m", sa.Double),
        sa.PrimaryKeyConstraint("flight_id", "t", name="footprints_pkey"),
    )
    _gist("footprints", "polygon")

    op.create_table(
        "features",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("class", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("properties", JSONB, server_default="{}", nullable=False),
        sa.Column("geom", _geom("GEOMETRY"), nullable=False),
        sa.Column("source", sa.Text),
        _created_at(),
    )
    _gist("features", "geom")
    op.create_index("ix_features_class", "features", ["class"])
    _flight_references()


# samples and footprints are bulk-loaded (millions of rows): a row-level foreign key would
# cost a trigger call per row and halve the COPY rate. The same guarantees are kept set-wise:
# one check per statement that every new flight_id exists, and a cascade when flights go.
FLIGHT_CHILDREN = ("samples", "footprints")


def _flight_references() -> None:
    op.execute(
        """
        CREATE FUNCTION skyspace_check_flight_ids() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_rows n
                       WHERE NOT EXISTS (SELECT 1 FROM flights f WHERE f.id = n.flight_id)) THEN
                RAISE EXCEPTION 'insert into % references a flight that does not exist',
                    TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION skyspace_delete_flight_children() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM samples s USING old_rows o WHERE s.flight_id = o.id;
            DELETE FROM footprints p USING old_rows o WHERE p.flight_id = o.id;
            RETURN NULL;
        END $$
        """
    )
    for table in FLIGHT_CHILDREN:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_flight_exists_{event.lower()} AFTER {event} ON {table} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                "EXECUTE FUNCTION skyspace_check_flight_ids()"
            )
    op.execute(
        "CREATE TRIGGER flights_delete_children AFTER DELETE ON flights "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION skyspace_delete_flight_children()"
    )


def downgrade() -> None:
    for table in ("features", "footprints", "samples", "flights", "scenes"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS skyspace_check_flight_ids()")
    op.execute("DROP FUNCTION IF EXISTS skyspace_delete_flight_children()")
    # the extension is left in place: other schemas in the database may use it
