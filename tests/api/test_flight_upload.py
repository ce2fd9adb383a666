"""POST /flights: every format, the summary, all-or-nothing, clear 4xx on bad input."""

import io
import json
import zipfile

import gpxpy.gpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.synthetic.flights import to_srt, transect
from tests.conftest import SHARED_DATA, shared_file

START = "2024-05-01T10:00:00Z"


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        flights = conn.execute(text("SELECT count(*) FROM flights")).scalar_one()
        samples = conn.execute(text("SELECT count(*) FROM samples")).scalar_one()
    return flights, samples


def upload(client: TestClient, name: str, data: bytes, **form) -> "object":
    return client.post("/flights", files={"file": (name, data)}, data=form)


def airdata_csv() -> bytes:
    rows = [
        "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
        "altitude_above_seaLevel(feet),compass_heading(degrees),pitch(degrees),roll(degrees),"
        "gimbal_heading(degrees),gimbal_pitch(degrees),gimbal_roll(degrees)"
    ]
    for i in range(5):
        rows.append(
            f"{i * 100},2024-05-01 10:00:0{i // 10},{47.0 + i * 1e-4},{8.0 + i * 1e-4},"
            f"{100 + i},{1500 + i},{45 + i},-5,1,{46 + i},-90,0"
        )
    return "\n".join(rows).encode()


def gpx_file(points: int = 4) -> bytes:
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name="morning")
    segment = gpxpy.gpx.GPXTrackSegment()
    from datetime import UTC, datetime, timedelta

    for i in range(points):
        segment.points.append(
            gpxpy.gpx.GPXTrackPoint(
                46.0 + i * 1e-4,
                7.0,
                elevation=500.0 + i,
                time=datetime(2024, 5, 1, 10, tzinfo=UTC) + timedelta(seconds=i),
            )
        )
    track.segments.append(segment)
    gpx.tracks.append(track)
    return gpx.to_xml().encode()


def geojson_line() -> bytes:
    return json.dumps(
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[9, 45, 300], [9.001, 45, 301]]},
            "properties": {"times": ["2024-05-01T10:00:00Z", "2024-05-01T10:00:10Z"]},
        }
    ).encode()


def geojson_points() -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [10 + i * 1e-4, 50, 40 + i]},
            "properties": {"time": f"2024-05-01T10:00:0{i}Z", "gimbal_pitch": -60, "yaw": 90},
        }
        for i in range(3)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def kml_track() -> bytes:
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><Placemark><gx:Track>
<when>2024-05-01T10:00:00Z</when><when>2024-05-01T10:00:05Z</when>
<gx:coord>11.0 48.0 520</gx:coord><gx:coord>11.001 48.0 522</gx:coord>
</gx:Track></Placemark></Document></kml>"""


def test_upload_srt_returns_the_summary(client: TestClient) -> None:
    flight = transect((2.17, 41.39), [(0, 300), (90, 200)], speed=10.0, fps=30.0)
    reply = upload(
        client,
        "transect.srt",
        to_srt(flight).encode(),
        camera=json.dumps({"width": 3840, "height": 2160, "hfov_deg": 82.0}),
        takeoff_elevation="12.5",
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["sample_count"] == len(flight)
    assert body["dropped_count"] == 0
    assert body["source_format"] == "srt"
    assert body["duration_s"] == pytest.approx(flight.t[-1], abs=1e-3)
    assert body["length_m"] == pytest.approx(500.0, rel=0.01)
    assert body["bbox"][0] == pytest.approx(flight.lon.min(), abs=1e-7)
    assert body["start_time"].startswith("2024-05-01T10:00:00")
    assert body["camera"]["intrinsics"]["fx"] == pytest.approx(3840 / 2 / 0.8692867378162267)
    assert body["takeoff_elevation"] == 12.5
    assert body["altitude_reference"] == "takeoff"
    assert reply.headers["location"].endswith(f"/flights/{body['id']}")


@pytest.mark.parametrize(
    ("name", "factory", "count", "source"),
    [
        ("log.csv", airdata_csv, 5, "csv"),
        ("track.gpx", gpx_file, 4, "gpx"),
        ("line.geojson", geojson_line, 2, "geojson"),
        ("points.json", geojson_points, 3, "geojson"),
        ("track.kml", kml_track, 2, "kml"),
    ],
)
def test_upload_every_format(client: TestClient, name, factory, count, source) -> None:
    reply = upload(client, name, factory())
    assert reply.status_code == 201, reply.text
    assert reply.json()["sample_count"] == count
    assert reply.json()["source_format"] == source


def test_airdata_feet_are_converted(client: TestClient) -> None:
    flight_id = upload(client, "log.csv", airdata_csv()).json()["id"]
    pose = client.get(f"/flights/{flight_id}/pose", params={"t": 0}).json()
    assert pose["alt_takeoff"] == pytest.approx(100 * 0.3048)
    assert pose["alt_msl"] == pytest.approx(1500 * 0.3048)
    assert pose["gimbal_pitch"] == -90 and pose["yaw"] == 45


def test_csv_with_a_mapping(client: TestClient) -> None:
    data = b"when;Lat;Lon;Height\n2024-05-01T10:00:00Z;45.0;7.0;100\n2024-05-01T10:00:02Z;45.001;7.0;110\n"
    mapping = {
        "time": "when",
        "lat": "Lat",
        "lon": "Lon",
        "alt_takeoff": "Height",
        "units": {"alt_takeoff": "ft"},
    }
    reply = upload(client, "custom.csv", data, mapping=json.dumps(mapping))
    assert reply.status_code == 201, reply.text
    pose = client.get(f"/flights/{reply.json()['id']}/pose", params={"t": 2}).json()
    assert pose["alt_takeoff"] == pytest.approx(110 * 0.3048)
    assert reply.json()["duration_s"] == 2.0


def test_photo_zip_gives_one_sample_per_photo(client: TestClient) -> None:
    images = sorted(shared_file("brighton", "images").glob("*.JPG"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for image in images:
            archive.write(image, image.name)
    reply = upload(client, "brighton.zip", buffer.getvalue())
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["sample_count"] == 18
    assert body["camera_model"] == "FC300S"
    samples = client.get(f"/flights/{body['id']}/samples").json()["features"]
    pitches = [f["properties"]["gimbal_pitch"] for f in samples]
    assert all(p == pytest.approx(-90, abs=0.5) for p in pitches)
    # DJI_0018.JPG: 46.84260708, -91.99455989 (trajectory_from_exif.csv, read by hand)
    assert samples[0]["geometry"]["coordinates"][:2] == pytest.approx([-91.99455989, 46.84260708])


BAD_FILES = [
    ("bad.srt", b"1\n00:00:00,000 --> 00:00:01,000\nGPS(abc,1,2)\n", "line 3"),
    ("bad.csv", airdata_csv().replace(b"47.0002", b"north"), "line 4"),
    ("bad.csv", b"a,b,c\n1,2,3\n", "line 1"),
    ("bad.gpx", b"<gpx><trk><trkseg><trkpt lat='x' lon='1'/></trkseg></trk></gpx>", "GPX"),
    ("bad.geojson", b'{"type": "Feature",\n "geometry": ', "line 2"),
    ("bad.geojson", geojson_points().replace(b'"time"', b'"when"'), "feature 1"),
    ("bad.kml", kml_track().replace(b"11.001 48.0", b"11.001"), "point 2"),
    ("bad.zip", b"PK\x03\x04 not really a zip", "zip"),
]


@pytest.mark.parametrize(
    ("name", "data", "where"), BAD_FILES, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(BAD_FILES)]
)
def test_malformed_files_are_422_and_store_nothing(
    client: TestClient, clean_db: Engine, name: str, data: bytes, where: str
) -> None:
    reply = upload(client, name, data)
    assert reply.status_code == 422, reply.text
    assert reply.json()["code"] in ("invalid_input", "empty")
    assert where in reply.json()["detail"]
    assert _counts(clean_db) == (0, 0)


def test_bad_form_fields_are_422(client: TestClient, clean_db: Engine) -> None:
    srt = to_srt(transect((2.17, 41.39), [(0, 50)], speed=10.0, fps=5.0)).encode()
    cases = [
        ({"camera": "{not json"}, "camera"),
        ({"camera": json.dumps({"width": 100, "height": 100})}, "camera needs one of"),
        ({"camera": json.dumps({"width": -1, "height": 100, "hfov_deg": 80})}, "camera.width"),
        ({"format": "mp4"}, "format"),
        ({"altitude_reference": "agl"}, "no such altitude"),
        ({"mapping": json.dumps({"lat": "x"})}, "mapping only applies to CSV"),
    ]
    for form, words in cases:
        reply = upload(client, "f.srt", srt, **form)
        assert reply.status_code == 422, (form, reply.text)
        assert words in reply.json()["detail"], (form, reply.json())
    assert client.post("/flights").status_code == 422
    assert _counts(clean_db) == (0, 0)


def test_a_failure_while_copying_leaves_no_partial_flight(
    client: TestClient, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.db import flights as store

    def broken_copy(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "copy_samples", broken_copy)
    srt = to_srt(transect((2.17, 41.39), [(0, 50)], speed=10.0, fps=5.0)).encode()
    with pytest.raises(RuntimeError):
        upload(client, "f.srt", srt)
    assert _counts(clean_db) == (0, 0)


def test_upload_over_the_size_limit_is_413(settings, clean_db: Engine) -> None:
    from app.main import create_app

    small = settings.model_copy(update={"max_upload_mb": 1})
    with TestClient(create_app(small)) as client:
        reply = upload(client, "big.srt", b"0" * (1024 * 1024 + 10))
    assert reply.status_code == 413 and reply.json()["code"] == "too_large"
    assert _counts(clean_db) == (0, 0)


def test_uploads_need_the_api_key_when_set(settings, clean_db: Engine) -> None:
    from pydantic import SecretStr

    from app.main import create_app

    guarded = settings.model_copy(update={"api_key": SecretStr("k")})
    srt = to_srt(transect((2.17, 41.39), [(0, 50)], speed=10.0, fps=5.0)).encode()
    with TestClient(create_app(guarded)) as client:
        assert upload(client, "f.srt", srt).status_code == 401
        ok = client.post("/flights", files={"file": ("f.srt", srt)}, headers={"X-API-Key": "k"})
        assert ok.status_code == 201
        assert client.get("/flights").status_code == 200


@pytest.mark.skipif(not (SHARED_DATA / "srt").exists(), reason="real data not present")
def test_every_real_srt_uploads(client: TestClient) -> None:
    for path in sorted((SHARED_DATA / "srt").glob("*.[sS][rR][tT]")):
        reply = upload(client, path.name, path.read_bytes())
        assert reply.status_code == 201, (path.name, reply.text)


def test_dji_txt_log_export_is_detected(client: TestClient) -> None:
    rows = [
        "CUSTOM.updateTime [local],OSD.flyTime [s],OSD.latitude,OSD.longitude,OSD.height [ft],"
        "OSD.yaw,OSD.pitch,OSD.roll,GIMBAL.pitch,GIMBAL.roll,GIMBAL.yaw"
    ]
    for i in range(4):
        rows.append(
            f"12:00:0{i},{i * 0.5},{46.5 + i * 1e-5},{7.5},{328.084},{90},{-2},{0},{-45},{0},{91}"
        )
    reply = upload(client, "DJIFlightRecord.csv", "\n".join(rows).encode())
    assert reply.status_code == 201, reply.text
    pose = client.get(f"/flights/{reply.json()['id']}/pose", params={"t": 1.0}).json()
    assert pose["alt_takeoff"] == pytest.approx(100.0, abs=1e-3)  # 328.084 ft
    assert (pose["yaw"], pose["gimbal_pitch"], pose["gimbal_yaw"]) == (90, -45, 91)
    assert reply.json()["duration_s"] == 1.5
