"""Landmarks from a GeoJSON FeatureCollection or an OpenStreetMap extract (pyosmium).

Every landmark becomes (class, name, geometry in WGS84, properties). From OSM: buildings,
roads (highway ways), water (natural=water, waterway areas and rivers), parks (leisure=park,
landuse=grass|recreation_ground) and named points of interest (amenity, shop, tourism,
historic nodes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
from shapely import wkb
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.errors import InvalidInput
from app.ingest.track import line_number

Landmark = tuple[str, str | None, BaseGeometry, dict[str, Any]]
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
POI_KEYS = ("amenity", "shop", "tourism", "historic")
MAX_FEATURES = 500_000


def parse_geojson_landmarks(data: bytes, default_class: str = "feature") -> list[Landmark]:
    """A FeatureCollection: `class` and `name` from the properties (the rest kept); the class
    comes from OSM-style tags when there is none, else `default_class`."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        raise InvalidInput(f"line {line_number(text, exc.pos)}: invalid JSON: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("expected a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput("the FeatureCollection has no features")
    if len(features) > MAX_FEATURES:
        raise InvalidInput(f"at most {MAX_FEATURES} features per request")
    landmarks = []
    for index, feature in enumerate(features, start=1):
        where = f"feature {index}"
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            raise InvalidInput(f"{where}: not a Feature with a geometry")
        properties = dict(feature.get("properties") or {})
        try:
            geometry = shape(feature["geometry"])
        except (ShapelyError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise InvalidInput(f"{where}: invalid geometry ({exc})") from None
        if geometry.is_empty:
            raise InvalidInput(f"{where}: empty geometry")
        minx, miny, maxx, maxy = geometry.bounds
        if not (minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90):
            raise InvalidInput(f"{where}: coordinates outside lon -180..180, lat -90..90")
        feature_class = (
            properties.pop("class", None) or _class_from_tags(properties) or default_class
        )
        name = properties.pop("name", None)
        landmarks.append(
            (str(feature_class), None if name is None else str(name), geometry, properties)
        )
    return landmarks


def _class_from_tags(tags: dict[str, Any]) -> str | None:
    """The landmark class OSM tags say, or None when they say nothing we keep."""
    if tags.get("building"):
        return "building"
    if tags.get("highway"):
        return "road"
    if (
        tags.get("natural") == "water"
        or tags.get("waterway") in ("riverbank", "river", "canal")
        or tags.get("water")
    ):
        return "water"
    if tags.get("leisure") == "park" or tags.get("landuse") in ("grass", "recreation_ground"):
        return "park"
    if tags.get("name") and any(tags.get(key) for key in POI_KEYS):
        return "poi"
    return None


def parse_osm_landmarks(data: bytes, filename: str) -> list[Landmark]:
    """Buildings, roads, water, parks and named POIs of an OSM extract (XML, bz2 or PBF)."""
    import osmium
    from osmium.geom import WKBFactory

    suffix = next(
        (s for s in sorted(OSM_SUFFIXES, key=len, reverse=True) if filename.lower().endswith(s)),
        None,
    )
    if suffix is None:
        raise InvalidInput(f"not an OSM extract name: {filename!r} ({', '.join(OSM_SUFFIXES)})")
    factory = WKBFactory()
    landmarks: list[Landmark] = []

    def keep(feature_class: str | None, tags: dict[str, str], make: Any) -> None:
        if feature_class is None:
            return
        try:
            geometry = wkb.loads(make(), hex=True)
        except (RuntimeError, ShapelyError, osmium.InvalidLocationError):
            return  # a way cut at the extract's edge, or a broken area: skipped, as osmium does
        landmarks.append((feature_class, tags.get("name"), geometry, tags))

    class Handler(osmium.SimpleHandler):
        def node(self, node: Any) -> None:
            tags = dict(node.tags)
            if _class_from_tags(tags) == "poi":
                keep("poi", tags, lambda: factory.create_point(node))

        def way(self, way: Any) -> None:
            tags = dict(way.tags)
            if tags.get("highway") or tags.get("waterway") in ("river", "canal", "stream"):
                feature_class = "road" if tags.get("highway") else "water"
                keep(feature_class, tags, lambda: factory.create_linestring(way))

        def area(self, area: Any) -> None:
            tags = dict(area.tags)
            feature_class = _class_from_tags(tags)
            if feature_class in ("building", "water", "park"):
                keep(feature_class, tags, lambda: factory.create_multipolygon(area))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"extract{suffix}"
        path.write_bytes(data)
        try:
            Handler().apply_file(str(path), locations=True)
        except RuntimeError as exc:
            raise InvalidInput(f"not a readable OSM extract: {exc}") from None
    if len(landmarks) > MAX_FEATURES:
        raise InvalidInput(f"the extract holds {len(landmarks)} landmarks (at most {MAX_FEATURES})")
    return landmarks
