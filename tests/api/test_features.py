"""Landmarks: GeoJSON and OpenStreetMap imports, the listing, and their vector tiles."""

import json

import mapbox_vector_tile
import morecantile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import shared_file

SQUARE = [[[8.5, 47.3], [8.501, 47.3], [8.501, 47.301], [8.5, 47.301], [8.5, 47.3]]]


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM features")).scalar_one()


def test_geojson_import_listing_and_one(client: TestClient) -> None:
    body = collection(
        feature(
            {"type": "Polygon", "coordinates": SQUARE},
            **{"class": "building", "name": "Hall", "height_m": 12},
        ),
        feature(
            {"type": "Point", "coordinates": [8.5005, 47.3005]}, name="Fountain", amenity="fountain"
        ),
        feature(
            {"type": "LineString", "coordinates": [[8.49, 47.3], [8.51, 47.3]]}, highway="primary"
        ),
    )
    reply = client.post("/features", json=body)
    assert reply.status_code == 201 and reply.json()["imported"] == 3
    listed = client.get("/features").json()
    classes = {f["properties"]["name"]: f["properties"]["class"] for f in listed["features"]}
    assert classes == {"Hall": "building", "Fountain": "poi", None: "road"}
    hall = next(f for f in listed["features"] if f["properties"]["name"] == "Hall")
    assert hall["properties"]["height_m"] == 12
    assert client.get(f"/features/{hall['id']}").json()["geometry"]["type"] == "Polygon"
    near = client.get("/features", params={"bbox": "8.5004,47.3004,8.5006,47.3006"}).json()
    assert {f["properties"]["name"] for f in near["features"]} == {"Hall", "Fountain"}
    assert client.get("/features", params={"class": "road"}).json()["numberMatched"] == 1
    assert client.get("/features/99999").status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            collection(feature({"type": "Polygon", "coordinates": "nope"})),
            "feature 1: invalid",
        ),
        (
            collection(
                feature({"type": "Point", "coordinates": [0, 0]}),
                feature({"type": "Point", "coordinates": [500, 0]}),
            ),
            "feature 2: coordinates",
        ),
        (
            collection(feature({"type": "Point", "coordinates": [0, 0]}), {"type": "Feature"}),
            "feature 2",
        ),
        ({"type": "Feature"}, "FeatureCollection"),
        (collection(feature({"type": "Bogus", "coordinates": [0, 0]})), "feature 1: invalid"),
    ],
)
def test_bad_geojson_names_the_feature_and_stores_nothing(
    client: TestClient, clean_db: Engine, body, words
) -> None:
    reply = client.post("/features", json=body)
    assert reply.status_code == 422 and words in reply.json()["detail"], reply.text
    assert _count(clean_db) == 0
    assert (
        client.post(
            "/features", content=b'{"type":\n oops', headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


@pytest.mark.parametrize("name", ["West-Oakland.osm.bz2", "Helsinki.osm.pbf"])
def test_osm_extracts(client: TestClient, clean_db: Engine, name: str) -> None:
    path = shared_file("osm", name)
    reply = client.post("/features", files={"file": (name, path.read_bytes())})
    assert reply.status_code == 201, reply.text
    with clean_db.connect() as conn:
        counts = dict(
            conn.execute(text("SELECT class, count(*) FROM features GROUP BY class")).all()
        )
        valid = conn.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM features")).scalar_one()
    assert (
        counts.get("building", 0) > 10 and counts.get("road", 0) > 10 and counts.get("poi", 0) > 5
    )
    assert valid
    assert sum(counts.values()) == reply.json()["imported"]


def test_a_broken_osm_file_is_422(client: TestClient, clean_db: Engine) -> None:
    reply = client.post("/features", files={"file": ("x.osm.pbf", b"not a pbf at all")})
    assert reply.status_code == 422
    assert client.post("/features", files={"file": ("x.txt", b"hello")}).status_code == 422
    assert _count(clean_db) == 0


def test_kampala_buildings_and_feature_tiles(client: TestClient) -> None:
    buildings = shared_file("kampala", "labels_osm_buildings.geojson")
    reply = client.post(
        "/features",
        params={"class": "building"},
        files={"file": ("kampala.geojson", buildings.read_bytes())},
    )
    assert reply.status_code == 201 and reply.json()["imported"] == 206
    first = client.get("/features", params={"limit": 1}).json()["features"][0]
    lon, lat = (
        first["geometry"]["coordinates"][0][0][:2]
        if first["geometry"]["type"] == "Polygon"
        else first["geometry"]["coordinates"][0][0][0][:2]
    )
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 17)
    layer = mapbox_vector_tile.decode(
        client.get(f"/tiles/features/{tile.z}/{tile.x}/{tile.y}.mvt").content
    )["features"]
    assert layer["features"] and {f["properties"]["class"] for f in layer["features"]} == {
        "building"
    }
    assert first["id"] in {f["id"] for f in layer["features"]}
    assert (
        json.loads(json.dumps(client.get("/tiles/features/tilejson.json").json()))["vector_layers"][
            0
        ]["id"]
        == "features"
    )


def test_a_self_intersecting_outline_is_repaired_not_refused(client: TestClient) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    reply = client.post("/features", json=collection(feature(bowtie, building="yes")))
    assert reply.status_code == 201
    stored = client.get("/features").json()["features"][0]
    assert stored["properties"]["geometry_repaired"] is True
    assert stored["geometry"]["type"] in ("MultiPolygon", "GeometryCollection", "Polygon")


def test_visible_landmarks_and_flights_that_saw_one(
    client: TestClient, settings, clean_db: Engine
) -> None:
    from app.demo import load_demo

    load_demo(clean_db, settings, echo=lambda line: None)
    flights = {f["properties"]["name"]: f["id"] for f in client.get("/flights").json()["features"]}
    survey = flights["demo survey"]
    seen = client.get(f"/flights/{survey}/visible", params={"t": 100, "class": "building"}).json()
    assert seen["features"], "the nadir survey over the town sees buildings"
    assert {f["class"] for f in seen["features"]} == {"building"}
    whole = [f for f in seen["features"] if f["fraction_in_view"] == 1.0]
    assert whole and all(0 <= f["u"] <= 1920 and 0 <= f["v"] <= 1080 for f in whole)
    footprint = client.get(f"/flights/{survey}/footprint", params={"t": 100}).json()
    from shapely.geometry import Point, shape

    polygon = shape(footprint["geometry"])
    for item in whole[:5]:
        building = client.get(f"/features/{item['id']}").json()
        assert polygon.contains(shape(building["geometry"]))
        center = client.get(
            f"/flights/{survey}/project", params={"t": 100, "u": item["u"], "v": item["v"]}
        ).json()
        assert (
            shape(building["geometry"]).buffer(1e-6).contains(Point(center["lon"], center["lat"]))
        )
    hall = next(
        f
        for f in client.get("/features", params={"class": "poi", "limit": 50}).json()["features"]
        if f["properties"]["name"] == "Town Hall"
    )
    saw = {f["name"]: f for f in client.get(f"/features/{hall['id']}/flights").json()["flights"]}
    orbit = saw["demo orbit"]
    assert orbit["first_t"] == 0 and orbit["frames"] == 1099, (
        "the orbit keeps the town hall in view"
    )
    assert client.get("/features/99999/flights").status_code == 404
