"""The directory a zone signal is shared over (`mapping.dso.zones`): each zone's and group's sites from the
VTN's live view, the registered ones with their venID and what the sites file says of them."""

from collections.abc import Mapping

from mapping.dso.zones import SiteCapability, ZoneDirectory, ZoneSite
from vtn.cache.live import LiveState
from vtn.site_registry import DEFAULT_CONTRACTED_KVA


def zone_directory(live: LiveState, capabilities: Mapping[str, SiteCapability]) -> ZoneDirectory:
    """Zones and groups → VEN names, and the registered VENs as sites (a VEN the sites file does not list
    has the default contract and no device)."""
    zones: dict[str, list[str]] = {}
    for ven_name, groups in live.groups_by_name.items():
        for group in groups:
            zones.setdefault(group, []).append(ven_name)
    unknown = SiteCapability(DEFAULT_CONTRACTED_KVA)
    registered = {
        ven.ven_name: ZoneSite(ven.ven_name, ven.ven_id, capabilities.get(ven.ven_name, unknown))
        for ven in live.vens.values()
        if ven.registered and ven.ven_name
    }
    return ZoneDirectory(zones={zone: tuple(sorted(names)) for zone, names in zones.items()}, registered=registered)
