"""Reading flights: listing, features, samples, poses, trajectories, segments, vector tiles."""

import json

import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.synthetic.flights import from_enu_path, to_srt, transect

ORIGIN = (2.17, 41.39)
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


def _post(client: TestClient, flight, name: str) -> dict:
    reply = client.post("/flights", files={"file": (name, to_srt(flight).encode())})
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.fixture
def north_flight(client: TestClient) -> dict:
    """Due north for 100 s at 10 m/s, 1 sample per second, from ORIGIN."""
    return _post(client, transect(ORIGIN, [(0, 1000)], speed=10.0, fps=1.0), "north.srt")


def test_listing_is_an_ogc_feature_collection_with_paging(client: TestClient) -> None:
    for i in range(3):
        _post(client, transect((ORIGIN[0] + i * 0.1, ORIGIN[1]), [(0, 100)], 10.0, 1.0), f"{i}.srt")
    page = client.get("/flights", params={"limit": 2}).json()
    assert page["type"] == "FeatureCollection"
    assert page["numberMatched"] == 3 and page["numberReturned"] == 2
    following = next(link for link in page["links"] if link["rel"] == "next")
    second = client.get(following["href"]).json()
    assert second["numberReturned"] == 1
    assert not any(link["rel"] == "next" for link in second["links"])
    names = {f["properties"]["name"] for f in page["features"] + second["features"]}
    assert names == {"0.srt", "1.srt", "2.srt"}

    box = f"{ORIGIN[0] + 0.05},{ORIGIN[1] - 0.01},{ORIGIN[0] + 0.15},{ORIGIN[1] + 0.02}"
    in_box = client.get("/flights", params={"bbox": box}).json()
    assert [f["properties"]["name"] for f in in_box["features"]] == ["1.srt"]
    later = client.get("/flights", params={"datetime": "2030-01-01T00:00:00Z/.."}).json()
    assert later["numberMatched"] == 0
    polygon = {"type": "Point", "coordinates": [ORIGIN[0] + 0.2, ORIGIN[1]]}
    hit = client.get("/flights", params={"intersects": json.dumps(polygon)}).json()
    assert [f["properties"]["name"] for f in hit["features"]] == ["2.srt"]


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "3,0,1,1"},
        {"datetime": "yesterday"},
        {"limit": 0},
        {"intersects": "{}"},
    ],
)
def test_listing_rejects_bad_filters(client: TestClient, params: dict) -> None:
    reply = client.get("/flights", params=params)
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"]


def test_feature_delete_and_404(client: TestClient, north_flight: dict) -> None:
    flight_id = north_flight["id"]
    feature = client.get(f"/flights/{flight_id}").json()
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == 101
    assert feature["properties"]["sample_count"] == 101
    assert client.delete(f"/flights/{flight_id}").status_code == 204
    for path in ("", "/samples", "/trajectory", "/pose?t=1"):
        reply = client.get(f"/flights/{flight_id}{path}")
        assert reply.status_code == 404, path
        assert reply.json()["code"] == "not_found"
    assert client.delete(f"/flights/{flight_id}").status_code == 404


def test_samples_by_t_and_by_instant(client: TestClient, north_flight: dict) -> None:
    flight_id = north_flight["id"]
    by_t = client.get(f"/flights/{flight_id}/samples", params={"start": 10, "end": 20}).json()
    assert [f["properties"]["t"] for f in by_t["features"]] == list(range(10, 21))
    by_time = client.get(
        f"/flights/{flight_id}/samples",
        params={"start": "2024-05-01T10:00:10Z", "end": "2024-05-01T10:00:20Z", "limit": 5},
    ).json()
    assert [f["properties"]["t"] for f in by_time["features"]] == [10, 11, 12, 13, 14]
    assert (
        client.get(f"/flights/{flight_id}/samples", params={"start": 5, "end": 1}).status_code
        == 422
    )


def test_pose_is_interpolated_in_a_metric_frame(client: TestClient, north_flight: dict) -> None:
    flight_id = north_flight["id"]
    samples = client.get(f"/flights/{flight_id}/samples", params={"start": 42, "end": 43}).json()
    (lon0, lat0, _), (_, lat1, _) = (f["geometry"]["coordinates"] for f in samples["features"])
    pose = client.get(f"/flights/{flight_id}/pose", params={"t": 42.25}).json()
    assert pose["interpolated"] is True and pose["between"] == [42, 43]
    assert pose["lat"] == pytest.approx(lat0 + 0.25 * (lat1 - lat0), abs=1e-9)
    assert pose["lon"] == pytest.approx(lon0, abs=1e-9)
    assert pose["time"] == "2024-05-01T10:00:42.250Z"
    exact = client.get(f"/flights/{flight_id}/pose", params={"t": "2024-05-01T10:00:42Z"}).json()
    assert exact["interpolated"] is False and exact["lat"] == pytest.approx(lat0)
    for t in (-1, 100.5, "nan", "2030-01-01T00:00:00Z"):
        reply = client.get(f"/flights/{flight_id}/pose", params={"t": t})
        assert reply.status_code == 422, t


def test_headings_interpolate_along_the_shortest_arc(client: TestClient) -> None:
    east = np.zeros(3)
    north = np.array([0.0, 10.0, 20.0])
    flight = from_enu_path(
        east, north, origin=ORIGIN, fps=1.0, gimbal_yaw=np.array([350.0, 10.0, 30.0])
    )
    flight_id = _post(client, flight, "wrap.srt")["id"]
    pose = client.get(f"/flights/{flight_id}/pose", params={"t": 0.5}).json()
    assert pose["gimbal_yaw"] == pytest.approx(0.0, abs=1e-9) or pose[
        "gimbal_yaw"
    ] == pytest.approx(360.0)


def test_trajectory_speeds_headings_and_simplification(client: TestClient) -> None:
    flight = transect(ORIGIN, [(90, 300), (0, 300)], speed=15.0, fps=2.0)
    flight_id = _post(client, flight, "l.srt")["id"]
    full = client.get(f"/flights/{flight_id}/trajectory").json()
    speeds = np.array(full["properties"]["speed_mps"][1:])
    assert np.median(speeds) == pytest.approx(15.0, rel=0.01)
    headings = full["properties"]["heading_deg"]
    assert headings[5] == pytest.approx(90.0, abs=0.5) and headings[-5] == pytest.approx(
        0.0, abs=0.5
    )
    assert len(full["geometry"]["coordinates"]) == len(flight)
    simple = client.get(f"/flights/{flight_id}/trajectory", params={"simplify": 1}).json()
    assert len(simple["geometry"]["coordinates"]) == 3  # start, corner, end
    assert len(simple["properties"]["times"]) == 3


def test_mfjson_loads_in_movingpandas_with_matching_speeds(client: TestClient) -> None:
    movingpandas = pytest.importorskip("movingpandas")
    flight = transect(ORIGIN, [(45, 400), (135, 400)], speed=12.0, fps=1.0)
    flight_id = _post(client, flight, "mf.srt")["id"]
    document = client.get(f"/flights/{flight_id}/trajectory", params={"format": "mfjson"}).json()
    assert document["temporalGeometry"]["type"] == "MovingPoint"
    trajectory = movingpandas.io.read_mf_dict(document)
    assert len(trajectory.df) == len(flight)
    trajectory.add_speed(overwrite=True, units=("m", "s"))
    theirs = trajectory.df["speed"].to_numpy()[1:]
    ours = np.array(document["temporalProperties"][0]["speed"]["values"])[1:]
    assert ours == pytest.approx(theirs, rel=5e-3)


def test_segment_has_interpolated_ends(client: TestClient, north_flight: dict) -> None:
    flight_id = north_flight["id"]
    segment = client.get(
        f"/flights/{flight_id}/segment", params={"start": 10.5, "end": 13.5}
    ).json()
    assert segment["properties"]["t"] == [10.5, 11, 12, 13, 13.5]
    lats = [c[1] for c in segment["geometry"]["coordinates"]]
    assert lats == sorted(lats)
    for params in ({"start": 5, "end": 2}, {"start": -3, "end": 2}, {"start": 1, "end": 1e6}):
        assert client.get(f"/flights/{flight_id}/segment", params=params).status_code == 422


def _tile_of(lon: float, lat: float, zoom: int):
    return WEB_MERCATOR.tile(lon, lat, zoom)


def test_vector_tiles_hold_the_flights(client: TestClient, north_flight: dict) -> None:
    other = _post(client, transect((ORIGIN[0] + 0.0005, ORIGIN[1]), [(0, 500)], 10.0, 1.0), "b.srt")
    tile = _tile_of(ORIGIN[0], ORIGIN[1] + 0.001, 14)
    reply = client.get(f"/tiles/flights/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(reply.content)["flights"]
    assert layer["extent"] == 4096
    by_id = {f["id"]: f for f in layer["features"]}
    assert set(by_id) == {north_flight["id"], other["id"]}
    assert by_id[north_flight["id"]]["properties"]["name"] == "north.srt"
    assert by_id[north_flight["id"]]["properties"]["start_time"] == "2024-05-01T10:00:00Z"
    assert by_id[north_flight["id"]]["geometry"]["type"] == "LineString"

    only = client.get(
        f"/tiles/flights/{tile.z}/{tile.x}/{tile.y}.mvt", params={"flights": other["id"]}
    )
    assert {f["id"] for f in mapbox_vector_tile.decode(only.content)["flights"]["features"]} == {
        other["id"]
    }
    before = client.get(
        f"/tiles/flights/{tile.z}/{tile.x}/{tile.y}.mvt",
        params={"datetime": "../2020-01-01T00:00:00Z"},
    )
    assert before.status_code == 204

    far = _tile_of(-120.0, -40.0, 14)
    assert client.get(f"/tiles/flights/{far.z}/{far.x}/{far.y}.mvt").status_code == 204
    assert client.get("/tiles/flights/3/9/1.mvt").status_code == 422
    assert client.get("/tiles/flights/30/0/0.mvt").status_code == 422
    assert (
        client.get(
            f"/tiles/flights/{tile.z}/{tile.x}/{tile.y}.mvt", params={"flights": "a"}
        ).status_code
        == 422
    )


def test_tilejson(client: TestClient) -> None:
    document = client.get("/tiles/flights/tilejson.json").json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"][0].endswith("/tiles/flights/{z}/{x}/{y}.mvt")
    assert document["vector_layers"][0]["id"] == "flights"
    assert client.get("/tiles/nothing/tilejson.json").status_code == 404
