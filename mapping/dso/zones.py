"""A zone's kW shared among its sites by their available flexibility. Pure.

The operators' zone signals (local flexibility, NEBCO) give one figure for a whole zone (poste source,
feeder). Each registered site of the zone gets its own event carrying its share, so that the zone as
a whole is asked for the figure — not every site for all of it.

**Available flexibility** of a site, in kW, from what the VTN knows of it (the sites file,
`vtn.site_registry`: contracted power, device kind and power), in the direction asked:

- consume less (IMPORT): a battery's, EV charger's or V2G car's power (`power_kw`); a PV roof or a site
  without a device has none (curtailing PV never lowers what a site draws);
- export less, consume more (EXPORT): the device's power, a PV roof's peak (`peak_kw`: it can be curtailed);
- never more than the site's contracted power (its connection bounds what it can move).

When no site of the zone has any, the contracted power stands in: the sites share alike by
subscription, as the aggregator API shares a group (`mapping.shares.proportional`, the one split).

- A **change** (LOAD_DISPATCH delta) is shared in proportion to flexibility: a 50 kW battery takes a
  bigger part of "consume 100 kW less" than a 22 kW charger, a PV roof none (and gets no event: `moving`).
- A **limit** is read as the reduction it asks below the sites' subscribed total (Σ contracted − limit);
  that reduction is shared in proportion to flexibility, and each site's limit is its contracted power
  less its share — the limits add up to the zone's, and sites that cannot move keep their subscription.
  A share larger than a site's subscription leaves it a limit of 0 kW (the zone then asks more than its
  sites can give).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mapping.dso.common import EventSpec
from mapping.oadr import model as m
from mapping.refusal import Refused
from mapping.shares import proportional

IMPORT, EXPORT = "IMPORT", "EXPORT"
#: devices whose power can be moved either way (stop or start charging, discharge)
MOVABLE = ("battery", "evse", "v2g")


class NoSite(Refused):
    """A zone none of whose sites has registered: the message is sound, but no event can carry it yet."""


@dataclass(frozen=True)
class SiteCapability:
    """What the VTN knows of a site: contracted power (kW), its device (sites file `asset.kind`) and its power."""

    contracted_kw: float
    device: str | None = None
    #: `power_kw` of a battery, charger or V2G car; `peak_kw` of a PV roof
    device_kw: float = 0.0


@dataclass(frozen=True)
class ZoneSite:
    """A registered site a zone signal can reach: its VEN name, venID (its event's target) and capability."""

    name: str
    ven_id: str
    capability: SiteCapability


@dataclass(frozen=True)
class ZoneDirectory:
    """The zones (and groups) by name → their sites' VEN names, and the registered sites by VEN name."""

    zones: Mapping[str, tuple[str, ...]]
    registered: Mapping[str, ZoneSite]

    def sites_of(self, zones: tuple[str, ...], field: str) -> tuple[tuple[ZoneSite, ...], tuple[str, ...]]:
        """(registered sites, unregistered VEN names) of `zones` — every registered site when none is
        named; NoSite naming `field` when none is registered."""
        if zones:
            names = sorted({name for zone in zones for name in self.zones.get(zone, ())})
        else:
            names = sorted(self.registered)
        found = tuple(self.registered[name] for name in names if name in self.registered)
        if not found:
            where = ", ".join(zones) if zones else "any zone"
            raise NoSite(field, f"no site of {where} has registered with the VTN: nothing can carry this yet")
        return found, tuple(name for name in names if name not in self.registered)


def flexibility_kw(site: SiteCapability, direction: str) -> float:
    """The kW a site can move in `direction` (IMPORT: consume less; EXPORT: export less, consume more)."""
    movable = site.device in MOVABLE or (site.device == "pv" and direction == EXPORT)
    return min(max(site.device_kw, 0.0), site.contracted_kw) if movable else 0.0


def _weights(sites: tuple[ZoneSite, ...], direction: str) -> dict[str, float]:
    flexible = {s.name: flexibility_kw(s.capability, direction) for s in sites}
    if math.fsum(flexible.values()) > 0:
        return flexible
    return {s.name: s.capability.contracted_kw for s in sites}  # nobody can move: share by subscription


def delta_shares(delta_kw: float, sites: tuple[ZoneSite, ...]) -> dict[str, float]:
    """A zone's change of consumption (negative: consume less) → each site's part, by its flexibility."""
    return proportional(delta_kw, _weights(sites, IMPORT if delta_kw < 0 else EXPORT))


def limit_shares(limit_kw: float, sites: tuple[ZoneSite, ...], direction: str) -> dict[str, float]:
    """A zone's import (or export) limit → each site's limit: its contracted power less its share, by
    flexibility, of the reduction the limit asks below the sites' subscribed total (at least 0 kW)."""
    contracted = {s.name: s.capability.contracted_kw for s in sites}
    cuts = proportional(math.fsum(contracted.values()) - limit_kw, _weights(sites, direction))
    return {name: max(0.0, kw - cuts[name]) for name, kw in contracted.items()}


def per_site(template: EventSpec, sites: tuple[ZoneSite, ...], values: Mapping[str, tuple[float, ...]]) -> tuple[EventSpec, ...]:
    """One event per site of `values` from `template`: key `<template key>-<site>`, targeting the site's venID."""
    return tuple(
        replace(
            template,
            key=f"{template.key}-{site.name}",
            target=m.Target(ven_ids=(site.ven_id,)),
            values=tuple(round(v, 6) for v in values[site.name]),
            comment=f"{template.comment}: share of {site.name}",
        )
        for site in sites
        if site.name in values
    )


def moving(changes: Mapping[str, tuple[float, ...]]) -> dict[str, tuple[float, ...]]:
    """The sites a change asks something of: a change of 0 kW throughout (a site with no flexibility in its
    direction) would only pin the site to its baseline, so it gets no event."""
    return {name: values for name, values in changes.items() if any(values)}


def notes(unregistered: tuple[str, ...], unmoved: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What the answer says of a zone's sites that got no event."""
    return tuple(
        f"{name}: not registered, no share (the zone's kW is shared among its registered sites)" for name in unregistered
    ) + tuple(f"{name}: no flexibility in that direction, no share" for name in unmoved)
