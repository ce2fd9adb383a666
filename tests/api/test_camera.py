"""The camera model over HTTP: projection, footprints (stored and live), frame view, Brighton."""

import io
import json
import zipfile

import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy import Engine, text

from app.synthetic.flights import from_enu_path, to_srt, transect
from app.synthetic.scenes import gradient, write_geotiff
from tests.conftest import shared_file

GEOD = Geod(ellps="WGS84")
ORIGIN = (8.5, 47.3)
CAMERA = {"width": 1920, "height": 1080, "hfov_deg": 80.0}


def upload(client: TestClient, flight, camera=CAMERA, name="f.srt", **form) -> dict:
    data = {"camera": json.dumps(camera)} if camera else {}
    reply = client.post(
        "/flights", files={"file": (name, to_srt(flight).encode())}, data={**data, **form}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.fixture
def nadir_flight(client: TestClient) -> dict:
    """North at 5 m/s for 60 s, 80 m above take-off, camera straight down, 2 fps."""
    north = np.linspace(0.0, 300.0, 121)
    flight = from_enu_path(
        np.zeros_like(north), north, origin=ORIGIN, fps=2.0, altitude=80.0, gimbal_pitch=-90.0
    )
    return upload(client, flight, takeoff_elevation="400")


def test_footprints_are_stored_at_ingest(
    client: TestClient, nadir_flight: dict, clean_db: Engine
) -> None:
    with clean_db.connect() as conn:
        count, partial = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE partial) FROM footprints WHERE flight_id = :id"
            ),
            {"id": nadir_flight["id"]},
        ).one()
        inside = conn.execute(
            text(
                "SELECT bool_and(ST_Contains(polygon, camera_ground)) FROM footprints WHERE flight_id = :id"
            ),
            {"id": nadir_flight["id"]},
        ).scalar_one()
        gsd = conn.execute(
            text("SELECT avg(gsd_m) FROM footprints WHERE flight_id = :id"),
            {"id": nadir_flight["id"]},
        ).scalar_one()
    assert count == nadir_flight["sample_count"] and partial == 0
    assert inside, "a nadir footprint contains the point below the camera"
    fx = 1920 / 2 / np.tan(np.radians(40))
    assert gsd == pytest.approx(80 / fx, rel=1e-3)


def test_project_and_unproject(client: TestClient, nadir_flight: dict) -> None:
    flight_id = nadir_flight["id"]
    pose = client.get(f"/flights/{flight_id}/pose", params={"t": 10.25}).json()
    center = client.get(
        f"/flights/{flight_id}/project", params={"t": 10.25, "u": 960, "v": 540}
    ).json()
    assert center["intersects"] is True
    assert (center["lon"], center["lat"]) == pytest.approx((pose["lon"], pose["lat"]), abs=1e-7)
    assert center["range_m"] == pytest.approx(80.0, abs=1e-3)
    assert center["ground_distance_m"] == pytest.approx(0.0, abs=1e-3)
    corner = client.get(
        f"/flights/{flight_id}/project", params={"t": 10.25, "u": 1920, "v": 0}
    ).json()
    assert corner["lon"] > pose["lon"] and corner["lat"] > pose["lat"], "top-right is north-east"
    back = client.get(
        f"/flights/{flight_id}/unproject",
        params={"t": 10.25, "lon": corner["lon"], "lat": corner["lat"]},
    ).json()
    assert (back["u"], back["v"]) == pytest.approx((1920, 0), abs=0.01)
    assert back["in_front"] is True
    behind = client.get(
        f"/flights/{flight_id}/unproject",
        params={"t": 10.25, "lon": pose["lon"] + 0.01, "lat": pose["lat"]},
    ).json()
    assert behind["in_frame"] is False
    many = client.post(
        f"/flights/{flight_id}/project", json={"t": 10.25, "pixels": [[960, 540], [0, 1080]]}
    ).json()
    assert [p["intersects"] for p in many["points"]] == [True, True]
    assert many["points"][0]["lon"] == pytest.approx(center["lon"])
    for params in (
        {"t": 10, "u": -5, "v": 0},
        {"t": 10, "u": 5000, "v": 0},
        {"t": 999, "u": 1, "v": 1},
    ):
        assert client.get(f"/flights/{flight_id}/project", params=params).status_code == 422
    assert (
        client.post(f"/flights/{flight_id}/project", json={"t": 1, "pixels": []}).status_code == 422
    )


def test_footprint_now_and_stored(client: TestClient, nadir_flight: dict) -> None:
    flight_id = nadir_flight["id"]
    live = client.get(f"/flights/{flight_id}/footprint", params={"t": 20}).json()
    polygon = shape(live["geometry"])
    pose = client.get(f"/flights/{flight_id}/pose", params={"t": 20}).json()
    assert polygon.contains(Point(pose["lon"], pose["lat"]))
    assert live["properties"]["partial"] is False
    width = 2 * 80 * np.tan(np.radians(40))
    lons = [c[0] for c in live["geometry"]["coordinates"][0]]
    _, _, measured = GEOD.inv(min(lons), pose["lat"], max(lons), pose["lat"])
    assert measured == pytest.approx(width, rel=1e-3)
    stored = client.get(
        f"/flights/{flight_id}/footprints", params={"start": 10, "end": 20, "step": 2}
    ).json()
    assert [f["properties"]["t"] for f in stored["features"]] == [10, 12, 14, 16, 18, 20]
    at_20 = next(f for f in stored["features"] if f["properties"]["t"] == 20)
    assert shape(at_20["geometry"]).symmetric_difference(polygon).area < 1e-4 * polygon.area


def test_footprint_vector_tiles(client: TestClient, nadir_flight: dict) -> None:
    tile = morecantile.tms.get("WebMercatorQuad").tile(ORIGIN[0], ORIGIN[1] + 0.001, 17)
    reply = client.get(f"/tiles/footprints/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert reply.status_code == 200
    layer = mapbox_vector_tile.decode(reply.content)["footprints"]
    assert layer["features"] and all(
        f["properties"]["flight_id"] == nadir_flight["id"] for f in layer["features"]
    )
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in layer["features"])
    assert (
        client.get("/tiles/footprints/tilejson.json").json()["vector_layers"][0]["id"]
        == "footprints"
    )
    assert client.get(f"/tiles/nothing/{tile.z}/{tile.x}/{tile.y}.mvt").status_code == 404


def test_a_flight_without_camera_and_patch(client: TestClient, clean_db: Engine) -> None:
    flight = upload(client, transect(ORIGIN, [(90, 100)], speed=5.0, fps=1.0), camera=None)
    reply = client.get(f"/flights/{flight['id']}/project", params={"t": 1, "u": 1, "v": 1})
    assert reply.status_code == 422 and reply.json()["code"] == "no_camera"
    patched = client.patch(
        f"/flights/{flight['id']}",
        json={"camera": {"model": "FC220", "width": 3840, "height": 2160}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["footprint_count"] == flight["sample_count"]
    assert patched.json()["camera"]["intrinsics"]["width"] == 3840
    bad = client.patch(f"/flights/{flight['id']}", json={"camera": {"width": 10}})
    assert bad.status_code == 422
    assert client.patch("/flights/9999", json={"camera": CAMERA}).status_code == 404


def test_stateless_projection(client: TestClient) -> None:
    body = {
        "camera": CAMERA,
        "pose": {"lon": 8.5, "lat": 47.3, "alt": 100, "yaw": 0, "pitch": -90},
        "pixels": [[960, 540]],
        "points": [[8.5, 47.3]],
        "footprint": True,
    }
    reply = client.post("/project", json=body).json()
    assert reply["ground"][0]["lon"] == pytest.approx(8.5) and reply["ground"][0][
        "range_m"
    ] == pytest.approx(100)
    assert reply["pixels"][0]["u"] == pytest.approx(960) and reply["pixels"][0]["in_frame"]
    assert reply["footprint"]["geometry"]["type"] == "Polygon"
    sky = {**body, "pose": {**body["pose"], "pitch": 20}, "pixels": [[960, 540]]}
    assert client.post("/project", json=sky).json()["ground"][0]["intersects"] is False
    assert client.post("/project", json={**body, "camera": {"width": 5}}).status_code == 422
    for change, words in (
        ({"width": 1e308}, "whole pixels"),
        ({"cx": "x"}, "camera.cx must be a number"),
        ({"cy": []}, "camera.cy must be a number"),
        ({"k1": float("nan")}, "camera.k1 must be a number"),
    ):
        payload = json.dumps({**body, "camera": {**CAMERA, **change}})  # NaN as JSON's NaN
        reply = client.post(
            "/project", content=payload, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 422 and words in reply.json()["detail"], reply.text


def test_frame_view_shows_the_scene(client: TestClient, data_dir, nadir_flight: dict) -> None:
    west, south = ORIGIN[0] - 0.003, ORIGIN[1] - 0.001
    path = write_geotiff(
        data_dir / "under.tif",
        gradient(512, 512),
        crs="EPSG:4326",
        bounds=(west, south, ORIGIN[0] + 0.003, ORIGIN[1] + 0.004),
    )
    scene = client.post(
        "/scenes", json={"name": "under", "uri": str(path), "kind": "aerial"}
    ).json()
    reply = client.get(
        f"/flights/{nadir_flight['id']}/frame-view",
        params={"scene": scene["id"], "t": 30, "width": 192},
    )
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    frame = np.asarray(Image.open(io.BytesIO(reply.content)))
    assert frame.shape == (108, 192, 4) and (frame[..., 3] == 255).all(), (
        "all ground, all in the scene"
    )
    # the frame's centre shows the scene pixel under the camera
    pose = client.get(f"/flights/{nadir_flight['id']}/pose", params={"t": 30}).json()
    point = client.get(f"/scenes/{scene['id']}/point/{pose['lon']},{pose['lat']}").json()
    assert np.abs(frame[54, 96, :3].astype(int) - np.array(point["values"])).max() <= 3
    # facing east, east of the camera is ahead: the top of the frame is brighter in band 1
    same = client.get(
        f"/scenes/{scene['id']}/frame", params={"flight": nadir_flight["id"], "t": 30, "width": 192}
    )
    assert same.content == reply.content


def test_brighton_photo_footprints_and_odm_positions(
    client: TestClient, data_dir, clean_db: Engine
) -> None:
    images = sorted(shared_file("brighton", "images").glob("*.JPG"))
    ortho = shared_file("brighton", "DERIVED_ortho_from_model_laz_0.10m_cog.tif")
    shots = json.loads(shared_file("brighton", "nodeodm_shots.geojson").read_text())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for image in images:
            archive.write(image, image.name)
    flight = client.post("/flights", files={"file": ("brighton.zip", buffer.getvalue())}).json()
    assert flight["camera"]["model"] == "FC300S" and flight["camera"]["height"] == 2250
    (data_dir / ortho.name).symlink_to(ortho)
    client.app.state.settings.data_dirs.append(ortho.parent.resolve())
    scene = client.post(
        "/scenes", json={"name": "ortho", "uri": str(ortho), "kind": "aerial"}
    ).json()
    with clean_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.t, ST_Intersects(p.polygon, s.footprint), ST_Area(p.polygon::geography) "
                "FROM footprints p, scenes s WHERE p.flight_id = :f AND s.id = :s ORDER BY p.t"
            ),
            {"f": flight["id"], "s": scene["id"]},
        ).all()
    assert len(rows) == 18 and all(row[1] for row in rows), (
        "every photo's footprint meets the ortho"
    )
    # ~40 m above ground with a 94° (diagonal) lens: about 70 m x 40 m on the ground
    assert all(1500 < row[2] < 5000 for row in rows)
    samples = client.get(f"/flights/{flight['id']}/samples").json()["features"]
    names = flight_photo_names(clean_db, flight["id"])
    ours = {name: f["geometry"]["coordinates"] for name, f in zip(names, samples, strict=True)}
    distances = []
    for shot in shots["features"]:
        lon, lat = shot["geometry"]["coordinates"][:2]
        mine = ours[shot["properties"]["filename"]]
        distances.append(GEOD.inv(lon, lat, mine[0], mine[1])[2])
    print(
        f"\nODM camera positions vs EXIF: median {np.median(distances):.2f} m, "
        f"max {np.max(distances):.2f} m over {len(distances)} photos"
    )
    assert np.median(distances) < 5.0 and np.max(distances) < 10.0


def flight_photo_names(engine: Engine, flight_id: int) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT properties->'photos' FROM flights WHERE id = :id"), {"id": flight_id}
        ).scalar_one()


def test_oblique_orbit_footprints_face_the_centre(client: TestClient) -> None:
    angle = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    east, north = 100 * np.cos(angle), 100 * np.sin(angle)
    look = np.degrees(np.arctan2(-east, -north)) % 360
    orbit = from_enu_path(
        east,
        north,
        origin=ORIGIN,
        fps=1.0,
        altitude=60.0,
        gimbal_pitch=-np.degrees(np.arctan2(60, 100)),
        gimbal_yaw=look,
    )
    flight = upload(client, orbit)
    for t in (0, 15, 30, 45):
        center = client.get(
            f"/flights/{flight['id']}/project", params={"t": t, "u": 960, "v": 540}
        ).json()
        _, _, off = GEOD.inv(ORIGIN[0], ORIGIN[1], center["lon"], center["lat"])
        assert off < 1.0, "the camera looks at the orbit's centre"


def test_projection_onto_a_dem_scene(client: TestClient, data_dir) -> None:
    north = np.linspace(0.0, 100.0, 11)
    flight = upload(
        client,
        from_enu_path(
            np.zeros_like(north), north, origin=ORIGIN, fps=1.0, altitude=80.0, gimbal_pitch=-90.0
        ),
        takeoff_elevation="0",
    )
    step_lat = ORIGIN[1] + 20 / 111_200  # a 30 m high plateau starts 20 m north of the start
    heights = np.zeros((1, 400, 400), dtype=np.float32)
    lats = np.linspace(ORIGIN[1] + 0.002, ORIGIN[1] - 0.002, 400)
    heights[0, lats >= step_lat, :] = 30.0
    path = write_geotiff(
        data_dir / "dem.tif",
        heights,
        crs="EPSG:4326",
        bounds=(ORIGIN[0] - 0.002, ORIGIN[1] - 0.002, ORIGIN[0] + 0.002, ORIGIN[1] + 0.002),
    )
    dem = client.post("/scenes", json={"name": "dem", "uri": str(path), "kind": "dem"}).json()
    params = {"t": 0, "u": 960, "v": 0}
    level = client.get(f"/flights/{flight['id']}/project", params=params).json()
    terrain = client.get(
        f"/flights/{flight['id']}/project", params={**params, "dem": dem["id"]}
    ).json()
    assert terrain["h"] == pytest.approx(30.0, abs=0.05), "the top of the frame sees the plateau"
    assert terrain["range_m"] == pytest.approx(level["range_m"] * 50 / 80, rel=1e-3)
    nadir = client.get(
        f"/flights/{flight['id']}/project", params={"t": 0, "u": 960, "v": 540, "dem": dem["id"]}
    ).json()
    assert nadir["h"] == pytest.approx(0.0, abs=0.05) and nadir["range_m"] == pytest.approx(
        80.0, abs=0.05
    )
    many = client.post(
        f"/flights/{flight['id']}/project",
        params={"dem": dem["id"]},
        json={"t": 0, "pixels": [[960, 0], [960, 540]]},
    ).json()
    assert [round(p["h"]) for p in many["points"]] == [30, 0]
    scene = client.post("/scenes", json={"name": "img", "uri": str(path), "kind": "aerial"}).json()
    wrong = client.get(f"/flights/{flight['id']}/project", params={**params, "dem": scene["id"]})
    assert wrong.status_code == 422 and "not a dem" in wrong.json()["detail"]
    # the footprint on the terrain: its northern edge stops short on the plateau's face
    url = f"/flights/{flight['id']}/footprint"
    flat_print = shape(client.get(url, params={"t": 0}).json()["geometry"])
    on_dem = client.get(url, params={"t": 0, "dem": dem["id"]}).json()
    dem_print = shape(on_dem["geometry"])
    assert dem_print.bounds[3] < flat_print.bounds[3], "the plateau hides the far ground"
    assert dem_print.bounds[1] == pytest.approx(flat_print.bounds[1], abs=1e-7), "south is flat"
    assert on_dem["properties"]["partial"] is False
    assert client.get(url, params={"t": 0, "dem": scene["id"]}).status_code == 422
