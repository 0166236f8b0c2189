"""What the VTN reads of the platform's sites file (config/sites.toml, shared with the VENs): where
each site is (the UI's map), its contracted power (what SIMPLE levels and capacity shares mean) and its
device (what share of a zone's kW it takes, `mapping.dso.zones`)."""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mapping.dso.zones import SiteCapability
from mapping.flexready.offers import SiteFacts

#: a site without contracted_kva has the VENs' default contract (ven.config.SiteConfig)
DEFAULT_CONTRACTED_KVA = 9.0


def read_sites_file(path: Path) -> list[Mapping[str, Any]]:
    """The `[[sites]]` entries of a sites file; none when it is missing or not TOML (the VTN works without it)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return []
    return [entry for entry in data.get("sites", []) if isinstance(entry, Mapping) and "name" in entry]


def _positive(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def _ven_name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("ven_name", entry["name"]))


def capabilities_by_ven(path: Path) -> dict[str, SiteCapability]:
    """oadrVenName → contracted power in kW (kVA taken as kW, power factor 1, as the VENs do), device kind
    (`[sites.asset] kind`) and its power: `power_kw` (battery, EV charger, V2G car) or `peak_kw` (PV roof)."""
    found = {}
    for entry in read_sites_file(path):
        kw = _positive(entry.get("contracted_kva", DEFAULT_CONTRACTED_KVA))
        if kw is None:
            continue
        asset = entry.get("asset")
        asset = asset if isinstance(asset, Mapping) else {}
        kind = asset.get("kind") if isinstance(asset.get("kind"), str) else None
        power = _positive(asset.get("power_kw")) or _positive(asset.get("peak_kw")) or 0.0
        found[_ven_name(entry)] = SiteCapability(kw, kind, power)
    return found


def contracted_kw_by_ven(path: Path) -> dict[str, float]:
    """oadrVenName → contracted power in kW (kVA taken as kW, power factor 1, as the VENs do)."""
    return {name: site.contracted_kw for name, site in capabilities_by_ven(path).items()}


def delivery_points_by_ven(path: Path) -> dict[str, str]:
    """oadrVenName → the delivery point (PRM/PDL) of the site's meter, where the sites file gives one (`delivery_point`)."""
    return {
        _ven_name(entry): str(entry["delivery_point"])
        for entry in read_sites_file(path)
        if isinstance(entry.get("delivery_point"), str) and entry["delivery_point"]
    }


def devices_by_ven(path: Path) -> dict[str, SiteFacts]:
    """oadrVenName → what the sites file says of the site's device for flexibility offers (kind, power,
    storage capacity and reserve); `max_kw` is the contract's kW (the aggregator API puts its own)."""
    found = {}
    for entry in read_sites_file(path):
        asset = entry.get("asset")
        asset = asset if isinstance(asset, Mapping) else {}
        kind = asset.get("kind") if isinstance(asset.get("kind"), str) else None
        default_reserve = 40.0 if kind == "v2g" else 10.0
        reserve = asset.get("reserve_percent", default_reserve)
        found[_ven_name(entry)] = SiteFacts(
            site=_ven_name(entry),
            max_kw=_positive(entry.get("contracted_kva", DEFAULT_CONTRACTED_KVA)) or 0.0,
            device=kind,
            device_kw=_positive(asset.get("power_kw")) or _positive(asset.get("peak_kw")) or 0.0,
            capacity_kwh=_positive(asset.get("capacity_kwh")),
            reserve_percent=float(reserve) if isinstance(reserve, int | float) and 0 <= reserve <= 100 else default_reserve,
        )
    return found
