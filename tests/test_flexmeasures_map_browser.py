"""FlexMeasures' map on OpenStreetMap, in a real browser: Debian's chromium (driven by playwright) logs into the
suite's real FlexMeasures 1.0.1 (patched by `scripts/flexmeasures.sh install`) and opens a Cariflex site's asset
page, whose map must ask OpenStreetMap's tile server for its tiles, never Mapbox; a second FlexMeasures, started
with CARIFLEX_FM_TILE_URL naming a tile server the test runs on loopback (a site without internet), draws its tiles.

Stand-ins, for what cannot run here (no internet): FlexMeasures' pages load Leaflet 1.7.1 from cdn.jsdelivr.net,
which the test serves from Debian's libjs-leaflet 1.7.1 (installed by scripts/ensure-browser.sh); every other
request leaving the machine (OpenStreetMap's tiles, jQuery, Bootstrap, fonts from CDNs) is aborted and only
recorded, so the first test checks the URLs the map asked for, not tiles drawn.
"""

import re
import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.support.flexmeasures import flexmeasures_server
from tests.support.local_http import serving
from ven.config import FlexMeasuresSettings, SiteConfig
from ven.flexmeasures.link import client_for
from ven.flexmeasures.provision import provision

CHROMIUM = "/usr/bin/chromium"
DEBIAN_LEAFLET = Path("/usr/share/javascript/leaflet/leaflet.js")
#: what FlexMeasures 1.0.1's asset page loads Leaflet from
LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.7.1/dist/leaflet-src.min.js"
OSM_TILE = re.compile(r"^https://tile\.openstreetmap\.org/(\d+)/(\d+)/(\d+)\.png$")
#: a Cariflex site at its commune (Le Lamentin), as `cariflex provision` creates it
SITE = SiteConfig(
    name="map-site",
    ven_name="map-site",
    commune="Le Lamentin",
    contracted_kva=9.0,
    base_load_kw=1.5,
    latitude=14.61,
    longitude=-60.99,
    asset={"kind": "battery", "flexmeasures_type": "battery", "capacity_kwh": 10.0, "power_kw": 5.0},
)

async_playwright = pytest.importorskip("playwright.async_api").async_playwright
pytestmark = [
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None or not DEBIAN_LEAFLET.exists(),
        reason="Debian's chromium or libjs-leaflet is missing (make test installs them: scripts/ensure-browser.sh)",
    ),
    pytest.mark.flexmeasures,
]


async def _site_asset_id(flexmeasures: Any) -> int:
    settings = FlexMeasuresSettings(flexmeasures.base_url, flexmeasures.email, flexmeasures.password, timedelta(seconds=120))
    client = client_for(settings)
    try:
        return (await provision(client, (SITE,)))[SITE.name].site_asset_id
    finally:
        await client.close()


async def _outside(route: Any) -> None:
    """Requests leaving the machine: Leaflet from Debian's copy, the rest aborted (no internet here)."""
    if route.request.url == LEAFLET_CDN:
        await route.fulfill(path=str(DEBIAN_LEAFLET), content_type="application/javascript")
    else:
        await route.abort("internetdisconnected")


@dataclass
class MapPage:
    """What chromium saw on a FlexMeasures asset page."""

    requested: list[str]
    errors: list[str]
    configured: str | None
    attribution: str
    tiles: list[str]
    loaded_tiles: int


async def _open_asset_map(fm: Any, asset_id: int) -> MapPage:
    """Log into FlexMeasures `fm` in chromium and open the asset page of `asset_id`, until its map has tiles."""
    requested: list[str] = []
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            await context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), _outside)
            page = await context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))

            await page.goto(f"{fm.base_url}/login")
            await page.fill("input#email", fm.email)
            await page.fill("input#password", fm.password)
            await page.click("input#submit, button#submit")
            await page.wait_for_url(lambda url: "/login" not in url)
            await page.goto(f"{fm.base_url}/assets/{asset_id}/context")
            await page.wait_for_selector("#mapid img.leaflet-tile", state="attached")
            # every tile has loaded or failed (none left pending), so the count of loaded ones is final
            await page.wait_for_function(
                "Array.from(document.querySelectorAll('#mapid img.leaflet-tile'))"
                ".every(t => t.complete || t.classList.contains('leaflet-tile-loaded'))"
            )
            patch_tag = page.locator('script[src*="js/cariflex-map-init-patch.js"]')
            return MapPage(
                requested=requested,
                errors=errors,
                configured=await patch_tag.get_attribute("data-tile-url"),
                attribution=await page.inner_text("#mapid .leaflet-control-attribution"),
                tiles=await page.eval_on_selector_all("#mapid img.leaflet-tile", "tiles => tiles.map(t => t.src)"),
                loaded_tiles=await page.locator("#mapid img.leaflet-tile-loaded").count(),
            )
        finally:
            await browser.close()


def _no_mapbox_and_the_osm_credit(seen: MapPage) -> None:
    assert not [url for url in seen.requested if "mapbox" in url], "the map still asks Mapbox"
    assert "© OpenStreetMap contributors" in seen.attribution
    assert "Mapbox" not in seen.attribution
    assert not [e for e in seen.errors if "addTileLayer" in e or "cariflex" in e], seen.errors


async def test_an_asset_page_map_asks_openstreetmap_for_tiles_and_never_mapbox(flexmeasures):
    seen = await _open_asset_map(flexmeasures, await _site_asset_id(flexmeasures))

    assert seen.configured == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"  # FlexMeasures' config, in the page
    assert seen.tiles and all(OSM_TILE.match(src) for src in seen.tiles), seen.tiles
    asked = [url for url in seen.requested if OSM_TILE.match(url)]
    assert asked, f"the map asked no OpenStreetMap tile; requests: {seen.requested}"
    assert {OSM_TILE.match(url).group(1) for url in asked} == {"10"}  # the asset page's zoom
    _no_mapbox_and_the_osm_credit(seen)


def _png() -> bytes:
    """A 1×1 grey PNG: what a tile server answers, as far as the browser can tell."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xcc")) + chunk(b"IEND", b"")


@asynccontextmanager
async def _tile_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A self-hosted tile server on loopback: (its tile URL template, the paths it was asked for)."""
    asked: list[str] = []

    async def tile(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(body=_png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/osm/{z}/{x}/{y}.png", tile)
    async with serving(app) as port:
        yield f"http://127.0.0.1:{port}/osm/{{z}}/{{x}}/{{y}}.png", asked


async def test_with_a_self_hosted_tile_server_configured_the_map_draws_its_tiles(tmp_path, monkeypatch):
    """A site without internet: FlexMeasures started with CARIFLEX_FM_TILE_URL naming a tile server of its own (a
    second FlexMeasures, ~30 s: the suite's one uses the default)."""
    async with _tile_server() as (tile_url, asked):
        monkeypatch.setenv("CARIFLEX_FM_TILE_URL", tile_url)  # read by `scripts/flexmeasures.sh start`
        with flexmeasures_server(tmp_path / "flexmeasures", email="cariflex-map@example.com") as fm:
            seen = await _open_asset_map(fm, await _site_asset_id(fm))

    assert seen.configured == tile_url
    assert asked and all(re.fullmatch(r"/osm/10/\d+/\d+\.png", path) for path in asked), asked
    assert seen.loaded_tiles > 0  # drawn, this time
    assert not [url for url in seen.requested if "openstreetmap.org" in url and "copyright" not in url]
    _no_mapbox_and_the_osm_credit(seen)
