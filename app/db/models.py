"""ORM models: the tables Alembic creates (see migrations/versions).

Geometries are stored in WGS84 (SRID 4326), `lon, lat` order; metric work happens in a local
frame or on `geography`. Spatial indexes are declared by the migrations, not here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    Integer,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCENE_KINDS = ("satellite", "aerial", "dem")
ALTITUDE_REFERENCES = ("agl", "takeoff", "msl")


class Base(DeclarativeBase):
    """Declarative base of every skyspace table."""


def _geometry(kind: str) -> Geometry:
    return Geometry(kind, srid=4326, spatial_index=False)


class Scene(Base):
    """A registered raster (satellite, aerial or DEM), read through rio-tiler."""

    __tablename__ = "scenes"
    __table_args__ = (CheckConstraint(f"kind IN {SCENE_KINDS!r}", name="scenes_kind_check"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    uri: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    footprint: Mapped[Any] = mapped_column(_geometry("POLYGON"))
    crs: Mapped[str] = mapped_column(Text)
    resolution_m: Mapped[float] = mapped_column(Double)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    band_count: Mapped[int] = mapped_column(Integer)
    dtype: Mapped[str] = mapped_column(Text)
    nodata: Mapped[float | None] = mapped_column(Double)
    is_cog: Mapped[bool] = mapped_column(Boolean)
    converted: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Flight(Base):
    """One UAV flight (a video clip or a photo series) and its camera."""

    __tablename__ = "flights"
    __table_args__ = (
        CheckConstraint(
            f"altitude_reference IN {ALTITUDE_REFERENCES!r}",
            name="flights_altitude_reference_check",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(Text)
    camera: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    camera_model: Mapped[str | None] = mapped_column(Text)
    altitude_reference: Mapped[str] = mapped_column(Text)
    takeoff_elevation: Mapped[float | None] = mapped_column(Double)
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sample_count: Mapped[int] = mapped_column(Integer)
    dropped_count: Mapped[int] = mapped_column(Integer, server_default="0")
    length_m: Mapped[float] = mapped_column(Double)
    path: Mapped[Any] = mapped_column(_geometry("LINESTRINGZ"))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Sample(Base):
    """One pose of a flight: time, position, altitudes, aircraft and gimbal attitude."""

    __tablename__ = "samples"

    flight_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # see migration 0001
    t: Mapped[float] = mapped_column(Double, primary_key=True)  # seconds since the first sample
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geom: Mapped[Any] = mapped_column(_geometry("POINTZ"))
    alt_agl: Mapped[float | None] = mapped_column(Double)
    alt_takeoff: Mapped[float | None] = mapped_column(Double)
    alt_msl: Mapped[float | None] = mapped_column(Double)
    yaw: Mapped[float | None] = mapped_column(Double)
    pitch: Mapped[float | None] = mapped_column(Double)
    roll: Mapped[float | None] = mapped_column(Double)
    gimbal_yaw: Mapped[float | None] = mapped_column(Double)
    gimbal_pitch: Mapped[float | None] = mapped_column(Double)
    gimbal_roll: Mapped[float | None] = mapped_column(Double)
    frame: Mapped[int | None] = mapped_column(Integer)
    focal35_mm: Mapped[float | None] = mapped_column(Double)  # 35 mm equivalent
    zoom: Mapped[float | None] = mapped_column(Double)


class Footprint(Base):
    """The ground outline seen by the camera at one sample."""

    __tablename__ = "footprints"

    flight_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # see migration 0001
    t: Mapped[float] = mapped_column(Double, primary_key=True)
    polygon: Mapped[Any] = mapped_column(_geometry("POLYGON"))
    partial: Mapped[bool] = mapped_column(Boolean, server_default="false")
    camera_ground: Mapped[Any | None] = mapped_column(_geometry("POINT"))
    center_ground: Mapped[Any | None] = mapped_column(_geometry("POINT"))
    gsd_m: Mapped[float | None] = mapped_column(Double)


class Feature(Base):
    """A landmark: building, road, water, park or named point of interest."""

    __tablename__ = "features"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    feature_class: Mapped[str] = mapped_column("class", Text)
    name: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    geom: Mapped[Any] = mapped_column(_geometry("GEOMETRY"))
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
