"""Imagery: registration, confinement, the catalogue, and every per-scene image endpoint."""

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import morecantile
import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer
from sqlalchemy import Engine, text

from app.synthetic.scenes import gradient, write_geotiff
from tests.conftest import shared_file

TMS = morecantile.tms.get("WebMercatorQuad")
BOUNDS_4326 = (8.500, 47.300, 8.510, 47.307)
CENTER = (8.505, 47.3035)


def to_3857(bounds):
    t = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    return (*t.transform(bounds[0], bounds[1]), *t.transform(bounds[2], bounds[3]))


def to_utm(bounds):
    t = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
    return (*t.transform(bounds[0], bounds[1]), *t.transform(bounds[2], bounds[3]))


@pytest.fixture
def cogs(data_dir: Path) -> dict[str, Path]:
    """Small COGs over the same place: several CRSs, band layouts and dtypes."""
    rgba = np.concatenate([gradient(300, 300, 3), np.full((1, 300, 300), 255, np.uint8)])
    rgba[3, :40, :] = 0  # a transparent strip along the top
    single = gradient(200, 200, 1, "uint8")
    single[0, 50:70, 50:70] = 0  # nodata square
    return {
        "rgb4326": write_geotiff(
            data_dir / "rgb4326.tif", gradient(256, 256, 3), crs="EPSG:4326", bounds=BOUNDS_4326
        ),
        "rgba3857": write_geotiff(
            data_dir / "rgba3857.tif",
            rgba,
            crs="EPSG:3857",
            bounds=to_3857(BOUNDS_4326),
            alpha=True,
        ),
        "gray_utm": write_geotiff(
            data_dir / "gray_utm.tif",
            single,
            crs="EPSG:32632",
            bounds=to_utm(BOUNDS_4326),
            nodata=0,
        ),
        "u16": write_geotiff(
            data_dir / "u16.tif",
            gradient(128, 128, 3, "uint16"),
            crs="EPSG:4326",
            bounds=BOUNDS_4326,
        ),
    }


def register(client: TestClient, path: Path, **extra) -> dict:
    body = {"name": path.stem, "uri": str(path), "kind": "satellite", **extra}
    reply = client.post("/scenes", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def decode(reply) -> np.ndarray:
    """(bands, h, w) pixels of an image reply."""
    assert reply.status_code == 200, reply.text
    if reply.headers["content-type"].startswith("application/x-binary"):
        return np.load(io.BytesIO(reply.content))
    if "tiff" in reply.headers["content-type"]:
        with rasterio.MemoryFile(reply.content) as memory, memory.open() as dataset:
            return dataset.read()
    picture = np.asarray(Image.open(io.BytesIO(reply.content)))
    return picture[None] if picture.ndim == 2 else np.moveaxis(picture, -1, 0)


def center_tile(zoom: int = 15) -> morecantile.Tile:
    return TMS.tile(*CENTER, zoom)


def test_register_reads_the_facts(client: TestClient, cogs: dict[str, Path]) -> None:
    rgb = register(client, cogs["rgb4326"], acquired_at="2023-06-01T10:00:00Z")
    props = rgb["properties"]
    assert props["crs"] == "EPSG:4326" and props["is_cog"] is True
    assert (props["width"], props["height"], props["band_count"], props["dtype"]) == (
        256,
        256,
        3,
        "uint8",
    )
    # 0.01 deg of longitude at 47.3 N over 256 px is about 2.9 m; 0.007 deg of latitude is 3.0 m
    assert props["resolution_m"] == pytest.approx(2.97, rel=0.03)
    assert rgb["bbox"] == pytest.approx(BOUNDS_4326, abs=1e-9)
    gray = register(client, cogs["gray_utm"])["properties"]
    assert gray["nodata"] == 0 and gray["crs"] == "EPSG:32632"
    utm_footprint = client.get(f"/scenes/{register(client, cogs['u16'])['id']}").json()
    assert utm_footprint["properties"]["dtype"] == "uint16"
    assert rgb["properties"]["acquired_at"].startswith("2023-06-01T10:00:00")


def test_bad_sources_are_422_and_store_nothing(
    client: TestClient, clean_db: Engine, data_dir: Path, tmp_path: Path
) -> None:
    (data_dir / "notes.txt").write_text("not a raster")
    outside = write_geotiff(
        tmp_path / "outside.tif", gradient(16, 16), crs="EPSG:4326", bounds=BOUNDS_4326
    )
    (data_dir / "link.tif").symlink_to(outside)
    cases = [
        ({"name": "x", "uri": "/etc/passwd"}, "inside SKYSPACE_DATA_DIRS"),
        ({"name": "x", "uri": str(outside)}, "inside SKYSPACE_DATA_DIRS"),
        ({"name": "x", "uri": str(data_dir / "link.tif")}, "inside SKYSPACE_DATA_DIRS"),
        (
            {"name": "x", "uri": str(data_dir / "../data/../../etc/hosts")},
            "inside SKYSPACE_DATA_DIRS",
        ),
        ({"name": "x", "uri": str(data_dir / "missing.tif")}, "no such file"),
        ({"name": "x", "uri": str(data_dir / "notes.txt")}, "not a readable raster"),
        ({"name": "x", "uri": "https://evil.example.com/a.tif"}, "not in SKYSPACE_ALLOWED_HOSTS"),
        ({"name": "x", "uri": "s3://other-bucket/a.tif"}, "not in SKYSPACE_ALLOWED_BUCKETS"),
        ({"name": "x", "uri": "ftp://127.0.0.1/a.tif"}, "not supported"),
        ({"name": "x", "uri": "/vsicurl/https://evil.example.com/a.tif"}, "virtual file system"),
        ({"name": "x", "uri": "file:///etc/passwd"}, "not supported"),
        ({"uri": str(outside)}, "name"),
        ({"name": "x", "uri": str(outside), "kind": "radar"}, "kind"),
        ({"name": "x", "uri": str(outside), "acquired_at": "soon"}, "acquired_at"),
        ({"name": "x"}, "uri"),
        ({"name": "x", "uri": "data\u0000.tif"}, "control characters"),
        ({"name": "x", "uri": "https://allowed.example:99999/a.tif"}, "Port out of range"),
        ({"name": "x", "uri": "http://[::1/a.tif"}, "not a URL or path"),
    ]
    for body, words in cases:
        reply = client.post("/scenes", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert words in reply.json()["detail"], (body, reply.json())
    assert (
        client.post(
            "/scenes", content=b"{oops", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scenes")).scalar_one() == 0


def test_upload_converts_a_plain_geotiff_to_a_cog(
    client: TestClient, settings, tmp_path: Path, clean_db: Engine
) -> None:
    plain = write_geotiff(
        tmp_path / "plain.tif", gradient(1500, 1000), crs="EPSG:4326", bounds=BOUNDS_4326, cog=False
    )
    reply = client.post(
        "/scenes",
        files={"file": ("plain.tif", plain.read_bytes())},
        data={"name": "plain", "kind": "aerial"},
    )
    assert reply.status_code == 201, reply.text
    props = reply.json()["properties"]
    assert props["converted_to_cog"] is True and props["is_cog"] is True
    assert props["kind"] == "aerial"
    stored = Path(props["uri"])
    assert stored.is_file() and stored.parent == settings.upload_dir
    with rasterio.open(stored) as dataset:
        assert dataset.overviews(1), "converted COG has overviews"
        assert (dataset.read() == gradient(1500, 1000)).all(), "conversion is lossless"
    garbage = client.post(
        "/scenes", files={"file": ("x.tif", b"II*\x00garbage")}, data={"name": "g"}
    )
    assert garbage.status_code == 422
    assert sorted(p.name for p in settings.upload_dir.iterdir()) == [stored.name]
    assert client.delete(f"/scenes/{reply.json()['id']}").status_code == 204
    assert not stored.exists(), "a file skyspace made goes with its scene"


def test_listing_filters(client: TestClient, cogs: dict[str, Path]) -> None:
    register(client, cogs["rgb4326"], acquired_at="2020-01-01T00:00:00Z")
    register(client, cogs["gray_utm"], kind="dem", acquired_at="2024-01-01T00:00:00Z")
    everything = client.get("/scenes").json()
    assert everything["numberMatched"] == 2 and everything["type"] == "FeatureCollection"
    assert [
        f["properties"]["kind"]
        for f in client.get("/scenes", params={"kind": "dem"}).json()["features"]
    ] == ["dem"]
    recent = client.get("/scenes", params={"datetime": "2023-01-01T00:00:00Z/.."}).json()
    assert [f["properties"]["name"] for f in recent["features"]] == ["gray_utm"]
    away = client.get("/scenes", params={"bbox": "0,0,1,1"}).json()
    assert away["numberMatched"] == 0
    page = client.get("/scenes", params={"limit": 1}).json()
    assert any(link["rel"] == "next" for link in page["links"])
    assert client.get("/scenes", params={"kind": "radar"}).status_code == 422


def test_tiles_in_every_format(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["rgb4326"])["id"]
    tile = center_tile(15)
    base = f"/scenes/{scene}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}"
    png = decode(client.get(base + ".png"))
    assert png.shape == (4, 256, 256)
    inside = png[3] == 255
    assert 0 < inside.mean() < 1, "the scene covers part of this tile"
    default = client.get(base)
    assert default.headers["content-type"] == "image/png", "masked pixels -> png"
    jpeg = decode(client.get(base + ".jpeg"))
    assert jpeg.shape == (3, 256, 256)
    webp = decode(client.get(base + ".webp"))
    assert webp.shape[1:] == (256, 256)
    npy = decode(client.get(base + ".npy"))
    assert npy.shape == (4, 256, 256) and (npy[:3][:, inside] == png[:3][:, inside]).all()
    tif_reply = client.get(base + ".tif")
    with rasterio.MemoryFile(tif_reply.content) as memory, memory.open() as dataset:
        assert dataset.crs.to_epsg() == 3857 and dataset.count == 4
        assert dataset.bounds == pytest.approx(tuple(TMS.xy_bounds(tile)), abs=1e-6)
    assert decode(client.get(base + "@2x.png")).shape == (4, 512, 512)
    assert decode(client.get(base + ".png", params={"tilesize": 512})).shape == (4, 512, 512)
    assert decode(client.get(base + ".png", params={"buffer": 2})).shape == (4, 260, 260)
    short = f"/scenes/{scene}/tiles/{tile.z}/{tile.x}/{tile.y}.png"
    assert (decode(client.get(short)) == png).all(), "WebMercatorQuad is the default"
    inner = TMS.tile(*CENTER, 18)
    fully_inside = decode(
        client.get(f"/scenes/{scene}/tiles/WebMercatorQuad/18/{inner.x}/{inner.y}")
    )
    assert fully_inside.shape == (3, 256, 256), "no masked pixel -> jpeg"


def test_tile_pixels_come_from_the_right_place(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["rgb4326"])["id"]
    tile = TMS.tile(*CENTER, 18)
    data = decode(
        client.get(f"/scenes/{scene}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.npy")
    )
    # the tile centre samples the raster at the tile centre's lon/lat (nearest pixel)
    bounds = TMS.bounds(tile)
    lon, lat = (bounds.left + bounds.right) / 2, (bounds.bottom + bounds.top) / 2
    col = int((lon - BOUNDS_4326[0]) / (BOUNDS_4326[2] - BOUNDS_4326[0]) * 256)
    row = int((BOUNDS_4326[3] - lat) / (BOUNDS_4326[3] - BOUNDS_4326[1]) * 256)
    expected = gradient(256, 256)[:, row, col]
    assert np.abs(data[:3, 128, 128].astype(int) - expected.astype(int)).max() <= 2


def test_band_and_render_parameters(client: TestClient, cogs: dict[str, Path]) -> None:
    rgb = register(client, cogs["rgb4326"])["id"]
    gray = register(client, cogs["gray_utm"])["id"]
    u16 = register(client, cogs["u16"])["id"]
    tile = TMS.tile(*CENTER, 17)
    path = f"/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}"
    one = decode(client.get(f"/scenes/{rgb}{path}.png", params={"bidx": 2}))
    assert one.shape == (2, 256, 256), "gray + alpha"
    swapped = decode(client.get(f"/scenes/{rgb}{path}.npy", params=[("bidx", 3), ("bidx", 1)]))
    plain = decode(client.get(f"/scenes/{rgb}{path}.npy"))
    assert (swapped[0] == plain[2]).all() and (swapped[1] == plain[0]).all()
    ratio = decode(client.get(f"/scenes/{rgb}{path}.npy", params={"expression": "b1*0+7"}))
    assert ratio.shape[0] == 2 and (ratio[0][ratio[1] > 0] == 7).all()
    colored = decode(client.get(f"/scenes/{gray}{path}.png", params={"colormap_name": "viridis"}))
    assert colored.shape == (4, 256, 256)
    no_mask = decode(client.get(f"/scenes/{rgb}{path}.png", params={"return_mask": "false"}))
    assert no_mask.shape == (3, 256, 256)
    stretched = decode(client.get(f"/scenes/{u16}{path}.npy", params={"rescale": "0,4000"}))
    raw = decode(client.get(f"/scenes/{u16}{path}.npy"))
    assert stretched.dtype == np.uint8 and raw.dtype == np.uint16
    masked = raw[-1] > 0
    expected = np.round(raw[0][masked] / 4000 * 255)
    assert np.abs(stretched[0][masked].astype(float) - expected).max() <= 1
    as_png = client.get(f"/scenes/{u16}{path}.png")
    assert as_png.content[:8] == b"\x89PNG\r\n\x1a\n" and as_png.content[24] == 16, "16-bit PNG"
    holes = decode(
        client.get(
            f"/scenes/{gray}/tiles/WebMercatorQuad/15/{center_tile().x}/{center_tile().y}.npy"
        )
    )
    assert (holes[-1] == 0).any(), "nodata pixels are masked"
    for params in (
        {"bidx": 9},
        {"bidx": 0},
        {"expression": "b1+"},
        {"rescale": "a,b"},
        {"colormap_name": "nope"},
        {"resampling": "magic"},
        {"nodata": "x"},
        {"colormap": "{bad"},
        {"tilesize": 0},
    ):
        reply = client.get(f"/scenes/{rgb}{path}.png", params=params)
        assert reply.status_code == 422, (params, reply.text)
        assert reply.json()["code"] in ("invalid_input", "invalid_request")


def test_tiles_outside_and_bad_paths(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["rgb4326"])["id"]
    far = TMS.tile(-70.0, -30.0, 15)
    reply = client.get(f"/scenes/{scene}/tiles/WebMercatorQuad/{far.z}/{far.x}/{far.y}.png")
    assert reply.status_code == 404 and reply.json()["code"] == "tile_outside_bounds"
    assert client.get(f"/scenes/{scene}/tiles/NoSuchTMS/1/0/0.png").status_code == 422
    assert client.get(f"/scenes/{scene}/tiles/WebMercatorQuad/1/0/0.gif").status_code == 422
    assert client.get(f"/scenes/{scene}/tiles/WebMercatorQuad/1/0/zero.png").status_code == 404
    assert client.get("/scenes/999/tiles/WebMercatorQuad/1/0/0.png").status_code == 404
    for z, x, y in ((-1, 0, 0), (99_999_999_999, 0, 0), (2, 4, 0), (30, 0, 0)):
        for path in (
            f"/scenes/{scene}/tiles/{z}/{x}/{y}.png",
            f"/mosaic/tiles/WebMercatorQuad/{z}/{x}/{y}.png",
        ):
            reply = client.get(path)
            assert reply.status_code == 422 and "does not exist" in reply.json()["detail"], path


def test_out_of_range_values_are_422(client: TestClient, cogs: dict[str, Path]) -> None:
    """Values that rio-tiler would choke on deep in a read are refused up front."""
    scene = register(client, cogs["rgb4326"])["id"]  # uint8
    wide = register(client, cogs["u16"])["id"]  # uint16
    west, south, east, north = BOUNDS_4326
    inside = f"{(west + east) / 2},{(south + north) / 2}"
    crop = f"{west},{south},{east},{north}"
    for nodata in ("-1", "256", "0.5", "nan", "inf", "1e309"):
        for path in (
            f"/scenes/{scene}/statistics",
            f"/scenes/{scene}/point/{inside}",
            f"/scenes/{scene}/preview.png",
            f"/scenes/{scene}/bbox/{crop}.png",
        ):
            reply = client.get(path, params={"nodata": nodata})
            assert reply.status_code == 422 and "nodata" in reply.json()["detail"], (path, nodata)
    assert client.get(f"/scenes/{scene}/preview.png", params={"nodata": "255"}).status_code == 200
    assert client.get(f"/scenes/{wide}/preview.png", params={"nodata": "65535"}).status_code == 200
    assert client.get(f"/scenes/{wide}/preview.png", params={"nodata": "65536"}).status_code == 422
    for path in (
        f"/scenes/{scene}/point/-inf,{south}",
        f"/scenes/{scene}/point/1e11,{south}",
        f"/scenes/{scene}/point/{west},-100",
        f"/scenes/{scene}/bbox/-1e11,{south},{east},{north}.png",
        f"/scenes/{scene}/bbox/{west},{south},{east},1e11/64x64.png",
        f"/scenes/{scene}/bbox/-inf,{south},{east},{north}.png",
        f"/mosaic/bbox/{west},{south},200,{north}/64x64.png",
    ):
        reply = client.get(path)
        assert reply.status_code == 422, (path, reply.text)
    huge = {"type": "Polygon", "coordinates": [[[1e308, 0], [1, 0], [1, 1], [1e308, 0]]]}
    reply = client.post(f"/scenes/{scene}/feature.png", json=huge)
    assert reply.status_code == 422 and "lon,lat" in reply.json()["detail"]
    broken = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}
    assert client.post(f"/scenes/{scene}/feature.png", json=broken).status_code == 422


def test_other_tile_matrix_sets(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["rgba3857"])["id"]
    for tms_id in ("WGS1984Quad", "WorldCRS84Quad", "UTM32WGS84Quad"):
        if tms_id not in morecantile.tms.list():
            continue
        tms = morecantile.tms.get(tms_id)
        tile = tms.tile(*CENTER, tms.maxzoom - 6 if tms.maxzoom > 16 else 14)
        reply = client.get(f"/scenes/{scene}/tiles/{tms_id}/{tile.z}/{tile.x}/{tile.y}.png")
        assert decode(reply).shape[0] == 4, tms_id


def test_etag_cache_and_delete(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["rgb4326"])["id"]
    tile = center_tile()
    url = f"/scenes/{scene}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.png"
    first = client.get(url)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=3600"
    assert client.get(url).content == first.content
    assert client.get(url, params={"rescale": "0,100"}).headers["etag"] != etag
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not not_modified.content
    imagery = client.app.state.imagery
    assert len(imagery.tiles) >= 1
    assert client.delete(f"/scenes/{scene}").status_code == 204
    assert len(imagery.tiles) == 0, "deleting a scene clears its tiles"
    assert client.get(url).status_code == 404
    assert client.delete(f"/scenes/{scene}").status_code == 404


def test_tilejson_wmts_info_statistics_point(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["gray_utm"])["id"]
    tilejson = client.get(
        f"/scenes/{scene}/WebMercatorQuad/tilejson.json",
        params={"tile_format": "png", "colormap_name": "viridis"},
    ).json()
    assert tilejson["tilejson"] == "3.0.0"
    assert tilejson["tiles"][0].endswith(
        f"/scenes/{scene}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?colormap_name=viridis"
    )
    assert tilejson["bounds"] == pytest.approx(BOUNDS_4326, abs=2e-4)
    assert 0 <= tilejson["minzoom"] <= tilejson["maxzoom"] <= 24
    xml = client.get(f"/scenes/{scene}/WebMercatorQuad/WMTSCapabilities.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(xml.content)
    ns = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}
    template = root.find(".//w:ResourceURL", ns).get("template")
    assert template.endswith("/{TileMatrix}/{TileCol}/{TileRow}.png")
    assert len(root.findall(".//w:TileMatrix", ns)) == tilejson["maxzoom"] - tilejson["minzoom"] + 1
    info = client.get(f"/scenes/{scene}/info").json()
    assert info["count"] == 1 and info["dtype"] == "uint8" and info["nodata_value"] == 0
    stats = client.get(f"/scenes/{scene}/statistics").json()
    band = stats["b1"]
    assert band["min"] > 0, "nodata is excluded"
    assert band["max"] == 255
    # a pixel's value: column 100, row 150 of the 200x200 gradient
    utm = to_utm(BOUNDS_4326)
    x = utm[0] + (100.5 / 200) * (utm[2] - utm[0])
    y = utm[3] - (150.5 / 200) * (utm[3] - utm[1])
    point = client.get(f"/scenes/{scene}/point/{x},{y}", params={"coord_crs": "EPSG:32632"}).json()
    assert point["values"] == [int(gradient(200, 200, 1)[0, 150, 100])]
    hole = client.get(
        f"/scenes/{scene}/point/{utm[0] + 60.5 / 200 * (utm[2] - utm[0])},"
        f"{utm[3] - 60.5 / 200 * (utm[3] - utm[1])}",
        params={"coord_crs": "EPSG:32632"},
    )
    assert hole.json()["values"] == [None], "a nodata pixel has no value"
    assert client.get(f"/scenes/{scene}/point/100,10").status_code == 404
    assert (
        client.get(f"/scenes/{scene}/point/1,2", params={"coord_crs": "EPSG:0"}).status_code == 422
    )


def test_preview_bbox_and_feature(client: TestClient, cogs: dict[str, Path]) -> None:
    scene = register(client, cogs["rgb4326"])["id"]
    preview = decode(client.get(f"/scenes/{scene}/preview.png", params={"max_size": 64}))
    assert preview.shape[1:] == (64, 64)
    assert decode(client.get(f"/scenes/{scene}/preview")).shape[1:] == (256, 256)
    west, south, east, north = BOUNDS_4326
    half = f"{west},{south},{(west + east) / 2},{north}"
    crop = decode(client.get(f"/scenes/{scene}/bbox/{half}.npy"))
    assert crop.shape[1:] == (256, 128), "native resolution"
    assert (crop[0][:, 0] < 5).all(), "the west edge of the gradient is dark"
    sized = decode(client.get(f"/scenes/{scene}/bbox/{half}/100x50.png"))
    assert sized.shape == (3, 50, 100) or sized.shape == (4, 50, 100)
    utm = decode(
        client.get(f"/scenes/{scene}/bbox/{half}/64x64.tif", params={"dst_crs": "EPSG:32632"})
    )
    assert utm.shape[1:] == (64, 64)
    assert client.get(f"/scenes/{scene}/bbox/{east},{south},{west},{north}.png").status_code == 422
    assert client.get(f"/scenes/{scene}/bbox/{half}/9000x10.png").status_code == 413
    triangle = {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [west, north], [west, south]]],
    }
    cut = decode(
        client.post(
            f"/scenes/{scene}/feature.npy",
            json={"type": "Feature", "geometry": triangle, "properties": {}},
        )
    )
    mask = cut[-1]
    assert mask[-5, 5] > 0 and mask[5, -5] == 0, "inside the triangle kept, outside masked"
    assert (
        client.post(
            f"/scenes/{scene}/feature.png", json={"type": "Point", "coordinates": [0, 0]}
        ).status_code
        == 422
    )


def test_mosaic_paints_the_newest_on_top(client: TestClient, data_dir: Path) -> None:
    west, south, east, north = BOUNDS_4326
    old = write_geotiff(
        data_dir / "old.tif",
        np.full((3, 100, 100), 40, np.uint8),
        crs="EPSG:4326",
        bounds=(west, south, east, north),
    )
    new = write_geotiff(
        data_dir / "new.tif",
        np.full((3, 100, 100), 200, np.uint8),
        crs="EPSG:4326",
        bounds=((west + east) / 2, south, east + 0.005, north),
    )
    register(client, old, acquired_at="2019-01-01T00:00:00Z")
    register(client, new, acquired_at="2024-01-01T00:00:00Z", kind="aerial")
    tile = TMS.tile(west + 0.0075, (south + north) / 2, 17)  # in the overlap
    image = decode(client.get(f"/mosaic/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.npy"))
    assert (image[0][image[-1] > 0] == 200).all(), "newer scene on top"
    only_old = decode(
        client.get(
            f"/mosaic/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.npy",
            params={"kind": "satellite"},
        )
    )
    assert (only_old[0][only_old[-1] > 0] == 40).all()
    before = decode(
        client.get(
            f"/mosaic/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.npy",
            params={"datetime": "../2020-01-01T00:00:00Z"},
        )
    )
    assert (before[0][before[-1] > 0] == 40).all()
    west_tile = TMS.tile(west + 0.001, (south + north) / 2, 17)
    west_image = decode(
        client.get(f"/mosaic/tiles/WebMercatorQuad/{west_tile.z}/{west_tile.x}/{west_tile.y}.npy")
    )
    assert (west_image[0][west_image[-1] > 0] == 40).all(), "only the old scene there"
    far = TMS.tile(100.0, 10.0, 17)
    assert (
        client.get(f"/mosaic/tiles/WebMercatorQuad/{far.z}/{far.x}/{far.y}.png").status_code == 404
    )
    crop = decode(client.get(f"/mosaic/bbox/{west},{south},{east + 0.005},{north}/150x100.npy"))
    assert crop.shape == (4, 100, 150)
    assert crop[0, 50, 10] == 40 and crop[0, 50, 140] == 200
    tilejson = client.get("/mosaic/WebMercatorQuad/tilejson.json").json()
    assert tilejson["bounds"] == pytest.approx([west, south, east + 0.005, north], abs=1e-6)


def test_real_imagery_when_present(client: TestClient, data_dir: Path) -> None:
    kampala = shared_file("kampala", "DERIVED_kampala_oam_z21_mosaic_3857_cog.tif")
    brighton = shared_file("brighton", "DERIVED_ortho_from_model_laz_0.10m_cog.tif")
    for source in (kampala, brighton):
        (data_dir / source.name).symlink_to(source)
    settings = client.app.state.settings
    settings.data_dirs.append(kampala.parent.resolve())
    settings.data_dirs.append(brighton.parent.resolve())
    k = register(client, kampala)
    assert k["properties"]["crs"] == "EPSG:3857" and k["properties"]["band_count"] == 3
    assert k["properties"]["resolution_m"] == pytest.approx(0.075, rel=0.15)
    lon = (k["bbox"][0] + k["bbox"][2]) / 2
    lat = (k["bbox"][1] + k["bbox"][3]) / 2
    tile = TMS.tile(lon, lat, 19)
    image = decode(client.get(f"/scenes/{k['id']}/tiles/WebMercatorQuad/19/{tile.x}/{tile.y}.png"))
    assert image.shape[1:] == (256, 256) and image[:3].std() > 5, "real texture, not a flat tile"
    b = register(client, brighton)
    assert b["properties"]["crs"] == "EPSG:32615" and b["properties"]["band_count"] == 4
    preview = decode(client.get(f"/scenes/{b['id']}/preview.png", params={"max_size": 128}))
    assert preview.shape[0] == 4 and (preview[3] == 0).any() and (preview[3] == 255).any()


def test_five_bands_as_png_is_a_clear_422(client: TestClient, data_dir: Path) -> None:
    four = write_geotiff(
        data_dir / "five.tif", gradient(64, 64, 5), crs="EPSG:4326", bounds=BOUNDS_4326
    )
    scene = register(client, four)["id"]
    tile = TMS.tile(*CENTER, 18)
    reply = client.get(f"/scenes/{scene}/tiles/WebMercatorQuad/18/{tile.x}/{tile.y}.png")
    assert reply.status_code == 422 and "cannot be encoded as png" in reply.json()["detail"]
    assert decode(
        client.get(
            f"/scenes/{scene}/tiles/WebMercatorQuad/18/{tile.x}/{tile.y}.png",
            params=[("bidx", 1), ("bidx", 2), ("bidx", 3)],
        )
    ).shape == (4, 256, 256)


def test_a_point_bbox_finds_the_scene_under_it(client: TestClient, cogs: dict[str, Path]) -> None:
    register(client, cogs["rgb4326"])
    point = f"{CENTER[0]},{CENTER[1]},{CENTER[0]},{CENTER[1]}"
    assert client.get("/scenes", params={"bbox": point}).json()["numberMatched"] == 1
    away = f"{CENTER[0] + 1},{CENTER[1]},{CENTER[0] + 1},{CENTER[1]}"
    assert client.get("/scenes", params={"bbox": away}).json()["numberMatched"] == 0
