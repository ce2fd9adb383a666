"""`skyspace demo`: the synthetic world (and, with --real, the real data) loaded idempotently.

Everything goes through the normal paths: the picture is written as a COG and registered as a
scene, the flights are written as DJI SRT files and parsed by the SRT parser, the features go
in as the landmarks table's rows.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from shapely.geometry import shape
from sqlalchemy import Engine, text

from app.db import scenes as catalogue
from app.db.features import insert_features
from app.db.flights import FlightOptions
from app.db.footprints import store_with_footprints
from app.ingest import parse_file
from app.settings import Settings
from app.synthetic.flights import to_srt
from app.synthetic.scenes import write_geotiff
from app.synthetic.world import build_world

DEMO_SOURCE = "demo"
DEMO_SCENE = "demo: synthetic city"
DEMO_CAMERA = {"width": 1920, "height": 1080, "focal35_mm": 24.0}
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _scene_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT 1 FROM scenes WHERE name = :n"), {"n": name}).first()
            is not None
        )


def _register(engine: Engine, name: str, path: str, kind: str, settings: Settings) -> int:
    return catalogue.register_raster(
        engine, settings.upload_dir, name=name, path=path, kind=kind, acquired_at=None, managed=None
    )


def load_demo(engine: Engine, settings: Settings, echo=print) -> bool:
    """Load the synthetic world unless it is there; True when something was loaded."""
    if _scene_exists(engine, DEMO_SCENE):
        echo("demo world already loaded")
        return False
    folder = (settings.data_dirs[0] / "demo").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    echo("drawing the synthetic city ...")
    world = build_world()
    cog = write_geotiff(
        folder / "synthetic-city.tif",
        world.image,
        crs=world.crs,
        bounds=world.bounds,
        profile="jpeg",
    )
    with engine.begin() as conn:
        insert_features(
            conn,
            ((f.feature_class, f.name, f.geometry, f.properties) for f in world.features),
            DEMO_SOURCE,
        )
    for name, flight in world.flights.items():
        path = folder / f"{name}.srt"
        path.write_text(to_srt(flight))
        track = parse_file(path.read_bytes(), path.name).build()
        with engine.begin() as conn:
            flight_id, count = store_with_footprints(
                conn,
                track,
                FlightOptions(f"demo {name}", camera=dict(DEMO_CAMERA), takeoff_elevation=0.0),
                settings.max_range_m,
            )
        echo(f"flight {flight_id} 'demo {name}': {len(track)} samples, {count} footprints")
    # the scene goes last: its presence is what marks the demo as loaded
    scene_id = _register(engine, DEMO_SCENE, str(cog), "aerial", settings)
    echo(f"scene {scene_id} '{DEMO_SCENE}' and {len(world.features)} features")
    return True


def load_real(engine: Engine, settings: Settings, echo=print) -> None:
    """Kampala imagery and buildings, Brighton photos and orthophoto, from ../shared/data."""
    if not SHARED.exists():
        raise FileNotFoundError(f"real data not present at {SHARED}")
    kampala = SHARED / "kampala" / "DERIVED_kampala_oam_z21_mosaic_3857_cog.tif"
    ortho = SHARED / "brighton" / "DERIVED_ortho_from_model_laz_0.10m_cog.tif"
    if not _scene_exists(engine, "Kampala drone mosaic"):
        _register(engine, "Kampala drone mosaic", str(kampala), "aerial", settings)
        buildings = json.loads((SHARED / "kampala" / "labels_osm_buildings.geojson").read_text())
        with engine.begin() as conn:
            insert_features(
                conn,
                (
                    ("building", None, shape(f["geometry"]), f.get("properties") or {})
                    for f in buildings["features"]
                ),
                "kampala-osm",
            )
        echo("Kampala mosaic and OSM buildings loaded")
    if not _scene_exists(engine, "Brighton orthophoto"):
        _register(engine, "Brighton orthophoto", str(ortho), "aerial", settings)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for photo in sorted((SHARED / "brighton" / "images").glob("*.JPG")):
                archive.write(photo, photo.name)
        track = parse_file(buffer.getvalue(), "brighton.zip").build()
        with engine.begin() as conn:
            store_with_footprints(
                conn, track, FlightOptions("Brighton photo flight"), settings.max_range_m
            )
        echo("Brighton orthophoto and photo flight loaded")
