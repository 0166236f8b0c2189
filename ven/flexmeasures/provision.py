"""`cariflex provision`: the sites' assets, sensors, stored flex-context and flex-models in
FlexMeasures, created idempotently (found by name; ids are looked up, never hard-coded)."""

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from flexmeasures_client import FlexMeasuresClient

from mapping.flex.constraints import EXPORT_LIMIT, IMPORT_LIMIT, PRICE
from mapping.flex.devices import STORAGE_KINDS, Device
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
    """The storage capacity of the site's battery or EV (kWh; 0 for a site without storage)."""
    device = site.device
    return device.capacity_kwh if device is not None and device.kind in STORAGE_KINDS else 0.0


def stored_flex_model(device: Device) -> dict[str, Any]:
    """What the device asset keeps as its flex-model: the fixed parts (the state of charge, plug times and
    forecasts go in each trigger, `mapping.flex.devices.flex_model`)."""
    if device.kind not in STORAGE_KINDS:
        return {"consumption-capacity": quantity(0.0, "kW")}  # PV: it only produces
    return {
        "soc-min": quantity(device.capacity_kwh * device.reserve_percent / 100 if device.kind != "evse" else 0.0, "kWh"),
        "soc-max": quantity(device.capacity_kwh, "kWh"),
        "power-capacity": quantity(device.power_kw, "kW"),
        "roundtrip-efficiency": f"{device.roundtrip_efficiency_percent:g}%",
    }


def site_defaults(site: SiteConfig) -> dict[str, float]:
    """Values the DSO sensors fall back to: the contracts for limits (import: the subscription, export: the
    export contract), the base tariff (`[opt] base_price_per_kwh`) for price."""
    return {IMPORT_LIMIT: site.contracted_kva, EXPORT_LIMIT: site.export_kva, PRICE: site.opt.base_price_per_kwh}


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
    """The sensor's id, created when missing. A power sensor is consumption positive (attribute
    `consumption_is_positive`): FlexMeasures' default stores production as positive, and every raw reader of
    the sensor (the devices following their schedule, the telemetry posted to it) would see the sign flipped;
    an existing sensor without the attribute is mended."""
    attributes = {"consumption_is_positive": True} if consumption_positive else {}
    for sensor in await client.get_sensors(asset_id=asset_id, parse_json_fields=True):
        if sensor["name"] == name:
            held = sensor.get("attributes") or {}
            if isinstance(held, dict) and any(held.get(k) != v for k, v in attributes.items()):
                log.info("marking sensor %s (%s) consumption positive", sensor["id"], name)
                await client.update_sensor(sensor["id"], {"attributes": json.dumps({**held, **attributes})})
            return sensor["id"]
    log.info("creating sensor %s on asset %s", name, asset_id)
    created = await client.add_sensor(
        name=name, event_resolution=RESOLUTION, unit=unit, generic_asset_id=asset_id, timezone=TIMEZONE, attributes=attributes
    )
    return created["id"]


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
        if site.device is None:
            print(f"skipping {site.name} ({index}/{len(sites)}): no [sites.asset], nothing to schedule", flush=True)
            continue
        print(f"provisioning {site.name} ({index}/{len(sites)})", flush=True)
        place = {"account_id": account["id"], "latitude": site.latitude or 14.64, "longitude": site.longitude or -61.02}
        site_asset = await _find_or_add_asset(client, existing, site.name, generic_asset_type_id=types["building"], **place)
        kind = site.device.kind
        device = await _find_or_add_asset(
            client,
            existing,
            f"{site.name}-{kind}",
            generic_asset_type_id=types[DEVICE_TYPES[kind]],
            parent_asset_id=site_asset["id"],
            **place,
        )
        assets = SiteAssets(site_asset["id"], device["id"])
        for name, unit in DSO_SENSORS.values():
            assets.sensors[name] = await _find_or_add_sensor(client, site_asset["id"], name, unit)
        for name, unit in SITE_SENSORS.items():
            assets.sensors[name] = await _find_or_add_sensor(client, site_asset["id"], name, unit, consumption_positive=True)
        assets.sensors["power"] = await _find_or_add_sensor(client, device["id"], "power", "kW", consumption_positive=True)
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
        await client.update_asset(site_asset["id"], {"flex_context": context}, parse_json_fields=True)
        await client.update_asset(device["id"], {"flex_model": stored_flex_model(site.device)}, parse_json_fields=True)
        result[site.name] = assets
    return result
