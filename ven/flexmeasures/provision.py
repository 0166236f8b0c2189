"""`cariflex provision`: the sites' assets, sensors, stored flex-context and flex-models in
FlexMeasures, created idempotently (found by name; ids are looked up, never hard-coded)."""

import logging
from dataclasses import dataclass, field
from typing import Any

from flexmeasures_client import FlexMeasuresClient

from mapping.flex.constraints import EXPORT_LIMIT, IMPORT_LIMIT, PRICE
from mapping.flex.flexmeasures import DSO_SENSORS, quantity, stored_flex_context
from mapping.grid import LOCAL_ZONE, QUARTER
from mapping.oadr.timefmt import format_duration
from ven.config import SiteConfig

log = logging.getLogger("cariflex.ven.provision")

#: the sensors' resolution and time zone: the 15-minute grid, whose quarter hours are Martinique's
RESOLUTION = format_duration(QUARTER)
TIMEZONE = LOCAL_ZONE
#: Cariflex asset kind → FlexMeasures asset type name
DEVICE_TYPES = {"battery": "battery", "v2g": "two-way_evse", "evse": "one-way_evse", "pv": "solar"}
STORAGE_KINDS = ("battery", "v2g", "evse")
SITE_SENSORS = {"site-power": "kW", "base-load": "kW", "aggregate-consumption": "kW"}


@dataclass
class SiteAssets:
    """Ids of one site's FlexMeasures objects."""

    site_asset_id: int
    device_asset_id: int
    sensors: dict[str, int] = field(default_factory=dict)

    @property
    def power_sensor(self) -> int:
        """The device's power sensor (the one FlexMeasures schedules)."""
        return self.sensors["power"]


def storage_capacity_kwh(site: SiteConfig) -> float:
    """The storage capacity of the site's battery or EV (configured, else 100 kWh, 75 kWh for an EV charger)."""
    return float(site.asset.get("capacity_kwh", 75.0 if site.asset.get("kind") == "evse" else 100.0))


def device_flex_model(site: SiteConfig, assets: SiteAssets, soc_percent: float | None = None) -> dict[str, Any] | None:
    """The device's storage flex-model (None for PV: not flexible here), from `soc_percent` when measured, else half full."""
    asset = site.asset
    kind = asset.get("kind")
    if kind not in STORAGE_KINDS:
        return None
    capacity = storage_capacity_kwh(site)
    power = float(asset.get("power_kw", 22.0))
    model: dict[str, Any] = {
        "sensor": assets.power_sensor,
        "soc-at-start": quantity(capacity * (50.0 if soc_percent is None else min(max(soc_percent, 0.0), 100.0)) / 100.0, "kWh"),
        "soc-min": quantity(capacity * 0.1, "kWh"),
        "soc-max": quantity(capacity, "kWh"),
        "power-capacity": quantity(power, "kW"),
    }
    if kind == "evse":
        model["production-capacity"] = quantity(0.0, "kW")  # a one-way charger cannot discharge
    return model


def site_defaults(site: SiteConfig) -> dict[str, float]:
    """Values the DSO sensors fall back to: the contract for limits, the base tariff (`[opt] base_price_per_kwh`) for price."""
    return {IMPORT_LIMIT: site.contracted_kva, EXPORT_LIMIT: site.contracted_kva, PRICE: site.opt.base_price_per_kwh}


async def _asset_types(client: FlexMeasuresClient) -> dict[str, int]:
    return {t["name"]: t["id"] for t in await client.get_asset_types()}


async def _find_or_add_asset(client: FlexMeasuresClient, existing: list[dict], name: str, **fields: Any) -> dict:
    for asset in existing:
        if asset["name"] == name and asset.get("parent_asset_id") == fields.get("parent_asset_id"):
            return asset
    log.info("creating asset %s", name)
    created = await client.add_asset(name=name, **fields)
    existing.append(created)
    return created


async def _find_or_add_sensor(
    client: FlexMeasuresClient, asset_id: int, name: str, unit: str, consumption_positive: bool = False
) -> int:
    for sensor in await client.get_sensors(asset_id=asset_id, parse_json_fields=True):
        if sensor["name"] == name:
            return sensor["id"]
    log.info("creating sensor %s on asset %s", name, asset_id)
    return (
        await client.add_sensor(name=name, event_resolution=RESOLUTION, unit=unit, generic_asset_id=asset_id, timezone=TIMEZONE)
    )["id"]


async def provision(client: FlexMeasuresClient, sites: tuple[SiteConfig, ...]) -> dict[str, SiteAssets]:
    """Create what is missing, update each site's stored flex-context; running it twice changes nothing."""
    account = await client.get_account()
    if account is None:
        raise RuntimeError("the FlexMeasures user has no account; create one with `flexmeasures add account`")
    types = await _asset_types(client)
    missing = {"building", *DEVICE_TYPES.values()} - set(types)
    if missing:
        raise RuntimeError(f"FlexMeasures lacks asset types {sorted(missing)}; run `flexmeasures add initial-structure`")
    existing = await client.get_assets(parse_json_fields=True)
    result: dict[str, SiteAssets] = {}
    for index, site in enumerate(sites, start=1):
        print(f"provisioning {site.name} ({index}/{len(sites)})", flush=True)
        place = {"account_id": account["id"], "latitude": site.latitude or 14.64, "longitude": site.longitude or -61.02}
        site_asset = await _find_or_add_asset(client, existing, site.name, generic_asset_type_id=types["building"], **place)
        kind = str(site.asset.get("kind", "battery"))
        device = await _find_or_add_asset(
            client,
            existing,
            f"{site.name}-{kind}",
            generic_asset_type_id=types[DEVICE_TYPES.get(kind, "battery")],
            parent_asset_id=site_asset["id"],
            **place,
        )
        assets = SiteAssets(site_asset["id"], device["id"])
        for name, unit in DSO_SENSORS.values():
            assets.sensors[name] = await _find_or_add_sensor(client, site_asset["id"], name, unit)
        for name, unit in SITE_SENSORS.items():
            assets.sensors[name] = await _find_or_add_sensor(client, site_asset["id"], name, unit, consumption_positive=True)
        assets.sensors["power"] = await _find_or_add_sensor(client, device["id"], "power", "kW")
        if kind in STORAGE_KINDS:
            assets.sensors["state-of-charge"] = await _find_or_add_sensor(client, device["id"], "state-of-charge", "kWh")
        by_kind = {
            kind_: assets.sensors[name]
            for kind_, (name, _unit) in DSO_SENSORS.items()
            if kind_ in (IMPORT_LIMIT, EXPORT_LIMIT, PRICE)
        }
        context = stored_flex_context(by_kind, site_defaults(site))
        context["inflexible-consumption"] = [{"sensor": assets.sensors["base-load"]}]
        # FlexMeasures writes the site's scheduled consumption here: that is what compliance is checked on
        context["aggregate-consumption"] = {"sensor": assets.sensors["aggregate-consumption"]}
        model = device_flex_model(site, assets)
        await client.update_asset(site_asset["id"], {"flex_context": context}, parse_json_fields=True)
        if model is not None:
            # soc-at-start is only accepted in a trigger (or from a state-of-charge sensor), not stored
            stored_model = {k: v for k, v in model.items() if k not in ("sensor", "soc-at-start")}
            await client.update_asset(device["id"], {"flex_model": stored_model}, parse_json_fields=True)
        result[site.name] = assets
    return result
