"""The site map of Martinique as inline SVG: a coastline outline, the sites, and OpenStreetMap tiles
underneath as an optional layer. Everything is placed in Web Mercator pixels at one zoom level, so
tiles and points line up; when tiles cannot load the outline and the sites still show."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from vtn.site_registry import DEFAULT_CONTRACTED_KVA, read_sites_file

ZOOM = 11
#: marks the map when a tile fails before static/map.js is there to hear it
TILE = 256
#: the island's bounding box (lat, lon), with a little sea around it
NORTH, SOUTH, WEST, EAST = 14.90, 14.37, -61.25, -60.79
#: an approximate coastline, clockwise from Le Prêcheur (for orientation, not for survey)
COAST = (
    (14.805, -61.225), (14.845, -61.222), (14.872, -61.185), (14.873, -61.140), (14.866, -61.105), (14.835, -61.055),
    (14.800, -61.020), (14.775, -60.985), (14.745, -60.955), (14.775, -60.875), (14.755, -60.880), (14.720, -60.925),
    (14.680, -60.930), (14.640, -60.880), (14.610, -60.870), (14.560, -60.830), (14.500, -60.810), (14.440, -60.820),
    (14.395, -60.845), (14.390, -60.880), (14.430, -60.900), (14.460, -60.930), (14.470, -60.980), (14.450, -61.040),
    (14.480, -61.085), (14.520, -61.085), (14.555, -61.055), (14.560, -61.020), (14.590, -61.000), (14.600, -61.030),
    (14.600, -61.070), (14.615, -61.100), (14.640, -61.140), (14.670, -61.160), (14.710, -61.180), (14.745, -61.180),
    (14.780, -61.200),
)  # fmt: skip


#: how asset kinds of the sites file read
ASSET_KINDS = {"pv": "PV", "battery": "battery", "evse": "EV charger", "v2g": "V2G charger"}
#: asset sizes shown, in this order, with their units
ASSET_SIZES = (("peak_kw", "kWp"), ("capacity_kwh", "kWh"), ("power_kw", "kW"))


@dataclass(frozen=True)
class Site:
    """A site from the sites file: its name, label and position (None: not on the map), and what the
    VEN page says of it."""

    name: str
    label: str
    latitude: float | None
    longitude: float | None
    #: the VEN's oadrVenName (the site name unless the file says otherwise)
    ven_name: str
    commune: str = ""
    #: 'PV 5 kWp', 'battery 13.5 kWh, 5 kW'
    asset: str = ""
    #: subscribed power (the file's contracted_kva, or the VENs' default contract)
    contracted_kva: float = DEFAULT_CONTRACTED_KVA


def describe_asset(asset: Mapping[str, Any]) -> str:
    """'PV 5 kWp', 'V2G charger 75 kWh, 11 kW' from a site's [sites.asset] table; '' for none."""
    kind = str(asset.get("kind", ""))
    sizes = [
        f"{value:g} {unit}"
        for key, unit in ASSET_SIZES
        if isinstance(value := asset.get(key), int | float) and not isinstance(value, bool)
    ]
    return " ".join([ASSET_KINDS.get(kind, kind), ", ".join(sizes)]).strip()


@dataclass(frozen=True)
class MapPoint:
    """A site as drawn: who it is and whether its VEN is online."""

    site: Site
    ven_id: str | None
    online: bool


def _number(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def load_sites(path: Path) -> list[Site]:
    """The sites of a sites file (a missing file gives none)."""
    sites = []
    for entry in read_sites_file(path):
        asset = entry.get("asset")
        sites.append(
            Site(
                name=str(entry["name"]),
                label=str(entry.get("label", entry["name"])),
                latitude=_number(entry, "latitude"),
                longitude=_number(entry, "longitude"),
                ven_name=str(entry.get("ven_name", entry["name"])),
                commune=str(entry.get("commune", "")),
                asset=describe_asset(asset) if isinstance(asset, Mapping) else "",
                contracted_kva=_number(entry, "contracted_kva") or DEFAULT_CONTRACTED_KVA,
            )
        )
    return sites


def project(lat: float, lon: float, zoom: int = ZOOM) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at `zoom`."""
    size = TILE * 2**zoom
    x = (lon + 180.0) / 360.0 * size
    phi = math.radians(lat)
    y = (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * size
    return x, y


def render_map(points: list[MapPoint], tiles_url: str | None) -> str:
    """The map as one SVG element (tiles first, then the coastline, then the sites that have a position)."""
    x0, y0 = project(NORTH, WEST)
    x1, y1 = project(SOUTH, EAST)
    width, height = x1 - x0, y1 - y0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="site-map" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        'aria-label="Sites of Martinique">',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#d8ecf7"/>',
    ]
    if tiles_url:
        parts.append('<g id="tiles">')
        for tx in range(int(x0 // TILE), int(x1 // TILE) + 1):
            for ty in range(int(y0 // TILE), int(y1 // TILE) + 1):
                href = tiles_url.format(z=ZOOM, x=tx, y=ty)
                parts.append(
                    f'<image class="tile" href="{escape(href)}" x="{tx * TILE - x0:.1f}" y="{ty * TILE - y0:.1f}" '
                    f'width="{TILE}" height="{TILE}"/>'
                )
        parts.append("</g>")
    coast = " ".join(f"{x - x0:.1f},{y - y0:.1f}" for x, y in (project(lat, lon) for lat, lon in COAST))
    parts.append(f'<polygon id="coast" points="{coast}" fill="#f4f1e8" fill-opacity="0.55" stroke="#6b6b6b" stroke-width="2"/>')
    # online sites last, so a site sharing a commune with unregistered ones stays visible
    for point in sorted(points, key=lambda p: (p.online, p.ven_id is not None)):
        if point.site.latitude is None or point.site.longitude is None:
            continue
        x, y = project(point.site.latitude, point.site.longitude)
        state = "online" if point.online else ("offline" if point.ven_id else "unknown")
        colour = {"online": "#2ca02c", "offline": "#d62728", "unknown": "#999999"}[state]
        label = f"{point.site.name} — {point.site.label} — {state}"
        parts.append(
            f'<circle class="site {state}" data-site="{escape(point.site.name)}" cx="{x - x0:.1f}" cy="{y - y0:.1f}" r="9" '
            f'fill="{colour}" stroke="#fff" stroke-width="2"><title>{escape(label)}</title></circle>'
        )
    if tiles_url:
        parts.append(
            f'<text x="{width - 6:.0f}" y="{height - 6:.0f}" text-anchor="end" font-size="14" fill="#333">'
            "© OpenStreetMap contributors</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
