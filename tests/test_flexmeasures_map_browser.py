"""FlexMeasures' map on OpenStreetMap, in a real browser: Debian's chromium (driven by playwright) logs into the
suite's real FlexMeasures 1.0.1 (patched by `scripts/flexmeasures.sh install`) and opens a Cariflex site's asset
page, whose map must ask OpenStreetMap's tile server (the configured tile URL) for its tiles, never Mapbox.

Stand-ins, for what cannot run here (no internet): FlexMeasures' pages load Leaflet 1.7.1 from cdn.jsdelivr.net,
which the test serves from Debian's libjs-leaflet 1.7.1 (installed by scripts/ensure-browser.sh); every other
request leaving the machine (the tiles, jQuery, Bootstrap, fonts from CDNs) is aborted and only recorded, so the
check is on the URLs the map asked for, not on tiles drawn.
"""

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

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


async def test_an_asset_page_map_asks_openstreetmap_for_tiles_and_never_mapbox(flexmeasures):
    asset_id = await _site_asset_id(flexmeasures)
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

            await page.goto(f"{flexmeasures.base_url}/login")
            await page.fill("input#email", flexmeasures.email)
            await page.fill("input#password", flexmeasures.password)
            await page.click("input#submit, button#submit")
            await page.wait_for_url(lambda url: "/login" not in url)
            await page.goto(f"{flexmeasures.base_url}/assets/{asset_id}/context")
            await page.wait_for_selector("#mapid img.leaflet-tile", state="attached")
            patch_tag = page.locator('script[src*="js/cariflex-map-init-patch.js"]')
            configured = await patch_tag.get_attribute("data-tile-url")
            attribution = await page.inner_text("#mapid .leaflet-control-attribution")
            tiles = await page.eval_on_selector_all("#mapid img.leaflet-tile", "tiles => tiles.map(t => t.src)")
        finally:
            await browser.close()

    assert configured == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"  # FlexMeasures' config, rendered into the page
    assert tiles and all(OSM_TILE.match(src) for src in tiles), tiles
    asked = [url for url in requested if OSM_TILE.match(url)]
    assert asked, f"the map asked no OpenStreetMap tile; requests: {requested}"
    assert {OSM_TILE.match(url).group(1) for url in asked} == {"10"}  # the asset page's zoom
    assert not [url for url in requested if "mapbox" in url], "the map still asks Mapbox"
    assert "© OpenStreetMap contributors" in attribution
    assert "Mapbox" not in attribution
    assert not [e for e in errors if "addTileLayer" in e or "cariflex" in e], errors
