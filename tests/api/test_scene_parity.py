"""Tile parity with TiTiler: the same COG and parameters give the same pixels.

TiTiler (`titiler.core`, a dev dependency) serves the same files from a TestClient; lossless
formats must match pixel for pixel, lossy ones within 40 dB PSNR.
"""

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.test_scenes import CENTER, TMS, cogs, decode, register  # noqa: F401

titiler_factory = pytest.importorskip("titiler.core.factory")

CASES = [
    ("rgb4326", {}),
    ("rgb4326", {"bidx": [3, 1]}),
    ("rgb4326", {"rescale": ["20,200"]}),
    ("rgb4326", {"expression": "b1*0.5+b2*0.5"}),
    ("rgb4326", {"resampling": "bilinear"}),
    ("rgb4326", {"buffer": 4}),
    ("rgb4326", {"return_mask": "false"}),
    ("rgba3857", {}),
    ("gray_utm", {}),
    ("gray_utm", {"colormap_name": "viridis"}),
    ("gray_utm", {"nodata": 255}),
    ("u16", {"rescale": ["0,4000"]}),
]


@pytest.fixture(scope="module")
def titiler() -> TestClient:
    app = FastAPI()
    app.include_router(titiler_factory.TilerFactory().router, prefix="/cog")
    return TestClient(app)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255.0**2 / error)


def _both(client, titiler, cogs, name, params, zoom, fmt):  # noqa: F811
    scene = register(client, cogs[name])["id"]
    tile = TMS.tile(*CENTER, zoom)
    path = f"tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.{fmt}"
    ours = client.get(f"/scenes/{scene}/{path}", params=params)
    theirs = titiler.get(f"/cog/{path}", params={**params, "url": str(cogs[name])})
    assert theirs.status_code == 200, theirs.text
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    return decode(ours), decode(theirs)


@pytest.mark.parametrize("fmt", ["png", "npy", "tif"])
@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_lossless_tiles_equal_titiler(client, titiler, cogs, name, params, fmt) -> None:  # noqa: F811
    for zoom in (15, 17):
        ours, theirs = _both(client, titiler, cogs, name, params, zoom, fmt)
        assert ours.shape == theirs.shape, (zoom, ours.shape, theirs.shape)
        assert (ours == theirs).all(), f"zoom {zoom}: {(ours != theirs).sum()} pixels differ"


LOSSY = [case for case in CASES[:8] if case[1] != {"bidx": [3, 1]}]  # 2 bands: no JPEG/WebP


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
@pytest.mark.parametrize(("name", "params"), LOSSY, ids=[f"{n}-{p}" for n, p in LOSSY])
def test_lossy_tiles_are_close_to_titiler(client, titiler, cogs, name, params, fmt) -> None:  # noqa: F811
    ours, theirs = _both(client, titiler, cogs, name, params, 17, fmt)
    assert ours.shape == theirs.shape
    assert psnr(ours, theirs) >= 40.0


def test_default_format_choice_matches(client, titiler, cogs) -> None:  # noqa: F811
    for zoom in (15, 18):  # partly outside (png) and fully inside (jpeg)
        scene = register(client, cogs["rgb4326"])["id"]
        tile = TMS.tile(*CENTER, zoom)
        path = f"tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}"
        ours = client.get(f"/scenes/{scene}/{path}")
        theirs = titiler.get(f"/cog/{path}", params={"url": str(cogs["rgb4326"])})
        assert ours.headers["content-type"] == theirs.headers["content-type"]


def test_two_bands_as_jpeg_is_a_422_not_a_500(client, cogs) -> None:  # noqa: F811
    scene = register(client, cogs["rgb4326"])["id"]
    tile = TMS.tile(*CENTER, 17)
    reply = client.get(
        f"/scenes/{scene}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.jpeg",
        params={"bidx": [3, 1]},
    )
    assert reply.status_code == 422 and "cannot be encoded as jpeg" in reply.json()["detail"]
