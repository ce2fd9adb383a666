"""The viewer in real headless Chromium (Debian's), against a server started on the demo world."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app.api.viewer import MAPLIBRE
from app.demo import load_demo
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(
        not (MAPLIBRE / "maplibre-gl.mjs").exists(),
        reason="MapLibre GL JS is not installed (npm install --prefix app/web)",
    ),
]
ARGS = [
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def demo_server(settings, clean_db: Engine, tmp_path: Path):
    """The demo world in the test database, served by uvicorn on a free loopback port."""
    load_demo(clean_db, settings, echo=lambda line: None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "SKYSPACE_DATABASE_URL": settings.database_url,
        "SKYSPACE_DATA_DIRS": str(settings.data_dirs[0]),
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app_factory",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(10)


def test_viewer_shows_the_demo_world_and_scrubs_a_flight(demo_server: str, tmp_path: Path) -> None:
    console_errors: list[str] = []
    failed: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.goto(f"{demo_server}/viewer")
        page.wait_for_function("window.skyspace && window.skyspace.idle", timeout=60_000)
        page.wait_for_selector("#flights li[data-id]", timeout=30_000)
        names = page.locator("#flights li[data-id]").all_inner_texts()
        assert sorted(n.split(" · ")[0] for n in names) == [
            "demo orbit",
            "demo survey",
            "demo transect",
        ]

        page.locator("#flights li", has_text="demo orbit").click()
        page.wait_for_function("window.skyspace.footprintVersion >= 1", timeout=30_000)
        page.wait_for_function("window.skyspace.idle", timeout=60_000)
        first = page.evaluate("JSON.stringify(window.skyspace.footprint.geometry)")
        tiles = page.evaluate("window.skyspace.tiles")
        assert tiles["mosaic"] > 0 and tiles["flights"] > 0 and tiles["footprints"] > 0, tiles

        page.fill("#time", "40")
        page.dispatch_event("#time", "input")
        page.wait_for_function("window.skyspace.footprintVersion >= 2", timeout=30_000)
        page.wait_for_function("window.skyspace.idle", timeout=60_000)
        second = page.evaluate("JSON.stringify(window.skyspace.footprint.geometry)")
        assert second != first, "moving the slider moves the footprint"
        # the orbit keeps the town hall in view: it is listed and highlighted on the map
        page.wait_for_function("window.skyspace.visible.length > 0", timeout=30_000)
        assert "Town Hall" in page.locator("#visible").inner_text()
        rendered = (
            "window.skyspace.map.queryRenderedFeatures({layers: ['landmarks-visible']})"
            ".map((f) => f.id)"
        )
        page.wait_for_function(f"{rendered}.length > 0", timeout=30_000)  # drawn next frame
        highlighted = page.evaluate(rendered)
        visible_ids = set(page.evaluate("window.skyspace.visible"))
        assert highlighted and set(highlighted) <= visible_ids, (highlighted, visible_ids)
        page.wait_for_function(
            "document.getElementById('frame').complete && "
            "document.getElementById('frame').naturalWidth > 0",
            timeout=30_000,
        )
        assert page.evaluate("document.getElementById('frame').naturalWidth") == 320

        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "!document.getElementById('pixel').classList.contains('muted')", timeout=30_000
        )
        answer = page.locator("#pixel").inner_text()
        assert answer.startswith("pixel (") or answer == "not in view"

        page.screenshot(path=str(tmp_path / "viewer.png"))
        state_errors = page.evaluate("window.skyspace.errors")
        browser.close()
    assert (tmp_path / "viewer.png").stat().st_size > 10_000
    assert not console_errors, console_errors
    assert not failed, failed
    assert not state_errors, state_errors


def test_demo_is_idempotent_and_real_data_loads(settings, clean_db: Engine) -> None:
    from sqlalchemy import text

    from app.demo import SHARED, load_real

    assert load_demo(clean_db, settings, echo=lambda line: None) is True
    assert load_demo(clean_db, settings, echo=lambda line: None) is False
    with clean_db.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM flights), (SELECT count(*) FROM scenes), "
                "(SELECT count(*) FROM features), (SELECT count(*) FROM footprints)"
            )
        ).one()
    assert counts[0] == 3 and counts[1] == 1 and counts[2] > 100 and counts[3] > 1000
    if not SHARED.exists():
        pytest.skip("real data not present")
    load_real(clean_db, settings, echo=lambda line: None)
    load_real(clean_db, settings, echo=lambda line: None)
    with clean_db.connect() as conn:
        names = conn.execute(text("SELECT name FROM scenes ORDER BY id")).scalars().all()
        kampala = conn.execute(
            text("SELECT count(*) FROM features WHERE source = 'kampala-osm'")
        ).scalar_one()
        brighton = conn.execute(
            text(
                "SELECT count(*) FROM footprints p JOIN flights f ON f.id = p.flight_id "
                "WHERE f.name = 'Brighton photo flight'"
            )
        ).scalar_one()
    assert names == ["demo: synthetic city", "Kampala drone mosaic", "Brighton orthophoto"]
    assert kampala == 206 and brighton == 18
