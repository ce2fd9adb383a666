"""Seeds over real imagery and real OSM buildings: a synthetic survey over the Kampala
drone mosaic (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from rasterio.warp import transform_bounds
from shapely.geometry import shape
from sqlalchemy import Engine

from app.db.features import insert_features
from app.db.scenes import register_raster
from app.questions.export import export
from app.synthetic.flights import lawnmower, to_srt
from tests.conftest import shared_file
from tests.questions.test_seeds import _truth_of


def test_seeds_over_kampala(
    client: TestClient, clean_db: Engine, settings, database_url: str, tmp_path: Path
) -> None:
    mosaic = shared_file("kampala", "DERIVED_kampala_oam_z21_mosaic_3857_cog.tif")
    labels = shared_file("kampala", "labels_osm_buildings.geojson")
    register_raster(
        clean_db,
        tmp_path,
        name="Kampala",
        path=str(mosaic),
        kind="aerial",
        acquired_at=None,
        managed=None,
    )
    buildings = json.loads(labels.read_text())["features"]
    with clean_db.begin() as conn:
        insert_features(
            conn, (("building", None, shape(f["geometry"]), {}) for f in buildings), "osm"
        )
    with rasterio.open(mosaic) as dataset:
        west, south, east, north = transform_bounds(dataset.crs, "EPSG:4326", *dataset.bounds)
    survey = lawnmower(
        ((west + east) / 2, (south + north) / 2),
        width=150,
        height=100,
        spacing=30,
        speed=4.0,
        fps=5.0,
    )
    survey.alt_takeoff[:] = 45.0
    reply = client.post(
        "/flights",
        files={"file": ("kampala.srt", to_srt(survey).encode(), "text/plain")},
        data={
            "camera": '{"width": 4000, "height": 3000, "hfov_deg": 70}',
            "takeoff_elevation": "0",
        },
    )
    assert reply.status_code == 201, reply.text
    flight_id = reply.json()["id"]

    seen = client.get(f"/flights/{flight_id}/visible", params={"t": 40}).json()["features"]
    assert seen and all(f["class"] == "building" for f in seen)
    inside = [f for f in seen if f["u"] is not None]
    assert inside and all(0 <= f["u"] <= 4000 and 0 <= f["v"] <= 3000 for f in inside)

    body = client.get(
        f"/flights/{flight_id}/seeds", params={"task": "1,2,3,6,8,12", "count": 3, "seed": 1}
    ).json()
    made = {s["task"] for s in body["seeds"]}
    assert {"count_in_view", "landmark_in_view", "drone_region", "map_direction"} <= made, body[
        "skipped"
    ]
    for seed in body["seeds"]:
        truth = _truth_of(seed)
        assert truth is None or seed["answer"] == truth, seed["id"]

    summary = export(
        database_url, settings, [flight_id], tmp_path / "out", per_task=1, tasks=[2, 3]
    )
    records = [
        orjson.loads(line)
        for line in (tmp_path / "out" / "questions.jsonl").read_bytes().split(b"\n")
        if line
    ]
    assert len(records) == 2 and summary.images >= 4
    for record in records:
        with Image.open(tmp_path / "out" / record["images"]["crop"]) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=float)
        assert pixels.std() > 20, "the crop shows the real mosaic"
        with Image.open(tmp_path / "out" / record["images"]["frames"][0]) as image:
            frame = np.asarray(image.convert("RGB"), dtype=float)
        assert frame.std() > 20, "the frame view samples the real mosaic"
