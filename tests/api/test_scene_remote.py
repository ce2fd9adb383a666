"""COGs read over HTTP range requests and from S3, both from local servers on 127.0.0.1."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.synthetic.scenes import gradient, write_geotiff
from tests.api.test_scenes import BOUNDS_4326, CENTER, TMS, decode, register


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read() if process.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("server did not start")


@pytest.fixture
def served(tmp_path: Path):
    """A folder served with HTTP Range support (rangehttpserver) on 127.0.0.1."""
    pytest.importorskip("RangeHTTPServer")
    folder = tmp_path / "www"
    folder.mkdir()
    port = _free_port()
    log = (tmp_path / "http.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "RangeHTTPServer", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_for(port, process)
    yield folder, port, tmp_path / "http.log"
    process.terminate()
    process.wait(10)


def test_cog_over_http_range_requests(client: TestClient, served, data_dir: Path) -> None:
    folder, port, log = served
    image = gradient(1024, 1024)
    write_geotiff(folder / "remote.tif", image, crs="EPSG:4326", bounds=BOUNDS_4326)
    local = write_geotiff(data_dir / "local.tif", image, crs="EPSG:4326", bounds=BOUNDS_4326)
    reply = client.post(
        "/scenes",
        json={"name": "remote", "kind": "aerial", "uri": f"http://127.0.0.1:{port}/remote.tif"},
    )
    assert reply.status_code == 201, reply.text
    remote = reply.json()
    assert remote["properties"]["is_cog"] is True
    assert remote["properties"]["converted_to_cog"] is False
    here = register(client, local)
    tile = TMS.tile(*CENTER, 17)
    path = f"tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.npy"
    over_http = decode(client.get(f"/scenes/{remote['id']}/{path}"))
    from_disk = decode(client.get(f"/scenes/{here['id']}/{path}"))
    assert (over_http == from_disk).all()
    assert " 206 " in log.read_text(), "GDAL read by ranges (206 Partial Content)"


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A moto S3 server on 127.0.0.1 with a bucket, and GDAL pointed at it."""
    boto3 = pytest.importorskip("boto3")
    server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if not Path(server).exists():
        pytest.skip("moto_server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(port, process)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_S3_ENDPOINT": f"127.0.0.1:{port}",
        "AWS_HTTPS": "NO",
        "AWS_VIRTUAL_HOSTING": "FALSE",
        "AWS_NO_SIGN_REQUEST": "NO",
    }.items():
        monkeypatch.setenv(name, value)
    bucket = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    bucket.create_bucket(Bucket="imagery")
    yield bucket
    process.terminate()
    process.wait(10)


def test_cog_from_s3(client: TestClient, s3, tmp_path: Path) -> None:
    path = write_geotiff(
        tmp_path / "s3.tif", gradient(512, 512), crs="EPSG:4326", bounds=BOUNDS_4326
    )
    s3.upload_file(str(path), "imagery", "scenes/s3.tif")
    client.app.state.settings.allowed_buckets.append("imagery")
    reply = client.post(
        "/scenes", json={"name": "s3", "kind": "satellite", "uri": "s3://imagery/scenes/s3.tif"}
    )
    assert reply.status_code == 201, reply.text
    scene = reply.json()
    assert scene["properties"]["width"] == 512 and scene["properties"]["is_cog"] is True
    tile = TMS.tile(*CENTER, 17)
    image = decode(
        client.get(f"/scenes/{scene['id']}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.npy")
    )
    assert image.shape == (4, 256, 256) and (image[3] == 255).all()
    missing = client.post(
        "/scenes", json={"name": "x", "kind": "satellite", "uri": "s3://imagery/scenes/none.tif"}
    )
    assert missing.status_code == 422
    assert os.environ["AWS_S3_ENDPOINT"].startswith("127.0.0.1:")
