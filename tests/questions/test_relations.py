"""Relations and events where the truth is known by construction, through the API."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import Engine, text

from app.db.features import NEAR_SQL, VISIBLE_SQL
from app.db.flights import samples_sql
from app.db.relations import FEATURES_SQL, ORDER_SQL
from app.geometry.events import turns, vertical_moves
from app.geometry.relations import clock, compass8, distance_band, egocentric_side
from app.synthetic.flights import enu_to_lonlat, from_enu_path, orbit, to_srt

ORIGIN = (13.4, 52.5)
CAMERA = '{"width": 1920, "height": 1080, "hfov_deg": 80}'


def test_words_for_bearings() -> None:
    assert compass8(90.0)[0] == "east" and compass8(359.0)[0] == "north"
    assert compass8(200.0)[0] == "south" and compass8(247.6)[0] == "west"
    assert compass8(22.4)[1] == pytest.approx(0.1, abs=1e-9)
    assert clock(90.0)[0] == 3 and clock(0.0)[0] == 12 and clock(350.0)[0] == 12
    assert clock(255.0)[0] == 8 and clock(14.0)[1] == pytest.approx(1.0)
    assert egocentric_side(90.0) == ("abeam", "right")
    assert egocentric_side(200.0) == ("behind", "left")
    assert egocentric_side(3.0) == ("ahead", "on_track")
    assert distance_band(75.0)[0] == "50-100 m" and distance_band(900.0)[0] == "over 800 m"
    assert distance_band(52.0)[1] == pytest.approx(0.04)


def _upload(client: TestClient, srt: str, name: str) -> int:
    reply = client.post(
        "/flights",
        files={"file": (name, srt.encode(), "text/plain")},
        data={"camera": CAMERA, "takeoff_elevation": "0"},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


@pytest.fixture
def north_track(client: TestClient) -> tuple[int, int]:
    """A straight 600 m flight due north at 10 m/s and a 20 m building 200 m east of its
    middle (300 m north of the start)."""
    north = np.arange(0.0, 600.0 + 1e-9, 1.0)
    flight = from_enu_path(  # the camera looks east, 20 degrees down
        np.zeros_like(north),
        north,
        origin=ORIGIN,
        fps=10.0,
        gimbal_pitch=-20.0,
        gimbal_yaw=np.full(north.size, 90.0),
    )
    flight_id = _upload(client, to_srt(flight), "north.srt")
    lon, lat = enu_to_lonlat(np.array([190.0, 210.0]), np.array([290.0, 310.0]), *ORIGIN)
    building = box(lon[0], lat[0], lon[1], lat[1])
    features = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(building), "properties": {"name": "East"}}
        ],
    }
    assert client.post("/features?class=building", json=features).status_code == 201
    feature_id = client.get("/features").json()["features"][0]["id"]
    return flight_id, feature_id


def test_landmark_east_of_a_northward_track(client: TestClient, north_track) -> None:
    flight_id, feature_id = north_track
    ask = {"feature_id": feature_id}
    before = client.get(f"/flights/{flight_id}/relation", params={**ask, "t": 10}).json()
    assert before["direction"] == "north-east" and before["motion"]["motion"] == "approaching"
    assert before["ahead_behind"] == "ahead" and before["left_right"] == "right"
    abeam = client.get(f"/flights/{flight_id}/relation", params={**ask, "t": 30}).json()
    assert abeam["direction"] == "east" and abeam["clock"] == 3
    assert abeam["ahead_behind"] == "abeam"
    assert abeam["distance_m"] == pytest.approx(190.0, abs=0.5)  # to the nearest wall
    assert abeam["centre_distance_m"] == pytest.approx(200.0, abs=0.5)
    assert abeam["heading_deg"] == pytest.approx(0.0, abs=0.01) or abeam["heading_deg"] > 359.9
    passed = client.get(f"/flights/{flight_id}/relation", params={**ask, "t": 35}).json()
    assert passed["direction"] == "east" and passed["clock"] == 3
    assert passed["ahead_behind"] == "behind" and passed["left_right"] == "right"
    assert passed["motion"]["motion"] == "receding" and passed["motion"]["monotonic"]
    assert passed["distance_band"] == "100-200 m"


def test_relation_errors(client: TestClient, north_track) -> None:
    flight_id, feature_id = north_track
    url = f"/flights/{flight_id}/relation"
    assert client.get(url, params={"t": 10, "feature_id": 999}).status_code == 404
    assert client.get(url, params={"t": 1000, "feature_id": feature_id}).status_code == 422
    assert client.get(url, params={"t": "x", "feature_id": feature_id}).status_code == 422
    bad_window = {"t": 10, "feature_id": feature_id, "window": 0}
    assert client.get(url, params=bad_window).status_code == 422
    assert client.get(url, params={"t": 10}).status_code == 422
    missing = client.get("/flights/999/relation", params={"t": 1, "feature_id": feature_id})
    assert missing.status_code == 404 and missing.json()["detail"]


def test_turns_of_circles_and_corners() -> None:
    left = orbit(ORIGIN, radius=120, laps=1.5, speed=8.0, fps=10.0)  # counter-clockwise
    found = turns(left.t, left.lon, left.lat)
    assert found and {e["direction"] for e in found} == {"left"}
    assert sum(e["angle_deg"] for e in found) == pytest.approx(-540, abs=20)
    right = turns(left.t, left.lon[::-1].copy(), left.lat[::-1].copy())
    assert right and {e["direction"] for e in right} == {"right"}
    # a square flown clockwise: three right turns of 90 degrees
    east = np.concatenate(
        [np.zeros(300), np.arange(300.0), np.full(300, 300.0), np.arange(300.0, 0, -1)]
    )
    north = np.concatenate(
        [np.arange(300.0), np.full(300, 300.0), np.arange(300.0, 0, -1), np.zeros(300)]
    )
    square = from_enu_path(east, north, origin=ORIGIN, fps=1.0)
    corners = turns(square.t, square.lon, square.lat)
    assert [e["direction"] for e in corners] == ["right"] * 3
    assert [e["angle_deg"] for e in corners] == pytest.approx([90, 90, 90], abs=3)


def test_events_endpoint(client: TestClient, north_track) -> None:
    flight_id, feature_id = north_track
    square = np.concatenate([np.arange(0.0, 200.0), np.full(200, 200.0)])
    other = np.concatenate([np.zeros(200), np.arange(0.0, 200.0)])
    # east 200 m then north 200 m: one left turn, after a 10 s hover at the start
    east = np.concatenate([np.zeros(50), square])
    north = np.concatenate([np.zeros(50), other])
    flight = from_enu_path(east, north, origin=ORIGIN, fps=5.0)
    second = _upload(client, to_srt(flight), "corner.srt")
    reply = client.get(f"/flights/{second}/events").json()
    assert [(e["direction"], round(e["angle_deg"])) for e in reply["turns"]] == [("left", -90)]
    assert len(reply["stops"]) == 1 and reply["stops"][0]["duration_s"] >= 9
    timeline = [e["type"] for e in reply["timeline"]]
    assert timeline == ["stop", "turn"]
    seen = client.get(f"/flights/{flight_id}/events").json()["landmarks"]
    assert [item["id"] for item in seen] == [feature_id]
    assert 0 < seen[0]["first_seen"] < seen[0]["last_seen"]
    assert client.get(f"/flights/{flight_id}/events", params={"min_turn": -1}).status_code == 422
    assert client.get("/flights/999/events").status_code == 404


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (samples_sql(True, True), {"id": 1, "start": 0.0, "end": 5.0}, "samples_pkey"),
        (
            VISIBLE_SQL.format(condition=""),
            {"polygon": box(13.4, 52.5, 13.41, 52.51).wkb, "class": None},
            "ix_features_geom",
        ),
        (FEATURES_SQL, {"ids": [1, 2], "lon": 13.4, "lat": 52.5}, "features_pkey"),
        (ORDER_SQL.format(condition=""), {"flight": 1, "limit": 10}, "ix_features_geom"),
        (
            NEAR_SQL.format(condition=""),
            {
                "lon": 13.4,
                "lat": 52.5,
                "radius": 300.0,
                "degrees": 0.005,
                "limit": 10,
                "class": None,
            },
            "ix_features_geom",
        ),
    ],
)
def test_queries_use_the_indexes(clean_db: Engine, sql: str, params: dict, index: str) -> None:
    """With sequential scans priced out, each query's plan goes through its index (on these
    small test tables the planner would otherwise rightly scan)."""
    with clean_db.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}"), params))
    assert index in plan, plan


def test_climbs_and_descents() -> None:
    t = np.arange(0.0, 120.0, 0.5)
    z = np.interp(t, [0, 20, 40, 80, 90, 120], [0, 0, 30, 30, 22, 22])  # +30 m, then -8 m
    moves = vertical_moves(t, z)
    assert [(m["type"], m["change_m"]) for m in moves] == [("climb", 30.0), ("descent", -8.0)]
    assert moves[0]["t_start"] == pytest.approx(20, abs=1)
    assert moves[1]["t_end"] == pytest.approx(90, abs=1)
    assert vertical_moves(t, np.full(t.size, 50.0)) == []


def test_short_flight_without_camera(client: TestClient) -> None:
    north = np.array([0.0, 5.0, 10.0])
    flight = from_enu_path(np.zeros(3), north, origin=ORIGIN, fps=1.0)
    reply = client.post("/flights", files={"file": ("short.srt", to_srt(flight).encode())})
    assert reply.status_code == 201, reply.text
    flight_id = reply.json()["id"]
    events = client.get(f"/flights/{flight_id}/events")
    assert events.status_code == 200 and events.json()["turns"] == []
    seeds = client.get(f"/flights/{flight_id}/seeds")
    assert seeds.status_code == 422 and seeds.json()["code"] == "no_camera"
    visible = client.get(f"/flights/{flight_id}/visible", params={"t": 1})
    assert visible.status_code == 422


def test_seeds_of_a_one_second_flight(client: TestClient) -> None:
    flight = from_enu_path(np.zeros(2), np.array([0.0, 5.0]), origin=ORIGIN, fps=1.0)
    flight_id = _upload(client, to_srt(flight), "tiny.srt")
    reply = client.get(f"/flights/{flight_id}/seeds", params={"count": 1})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert {s["task"] for s in body["seeds"]} <= {"start_end_cell"}  # no instant to ask about
    assert "count_in_view: the flight is shorter than 2 s" in body["skipped"]
