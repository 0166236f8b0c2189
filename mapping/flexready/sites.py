"""The sites an aggregator addresses: their subscribed power (kVA), which caps every limit, their
objective, and the groups they belong to. An order or series names exactly one site or one group."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from mapping.flexready.units import kva_to_kw
from mapping.openadr3 import wire
from mapping.refusal import Refused
from mapping.shares import proportional

OBJECTIVES = ("cost", "co2")


class Unknown(Refused):
    """A site or group the client cannot address: it does not exist, or it is not in the client's
    portfolio. Both are answered alike (404) so that another client's site does not leak."""


@dataclass(frozen=True)
class Site:
    """A site (its VEN name), its subscription and what its schedules minimise."""

    name: str
    subscribed_kva: float
    objective: str = "cost"


@dataclass(frozen=True)
class Portfolio:
    """The sites the aggregator API knows, the groups of them, and the power factor kVA → kW."""

    sites: Mapping[str, Site]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    power_factor: float = 1.0

    def max_kw(self, site: str) -> float:
        """The highest import limit a site's subscription allows, in kW."""
        return kva_to_kw(self.sites[site].subscribed_kva, self.power_factor)


def addressed(body: Mapping[str, object], portfolio: Portfolio) -> tuple[str | None, tuple[str, ...]]:
    """(group or None, the sites) an order or series names with `site` or `group` (exactly one of them)."""
    site, group = body.get("site"), body.get("group")
    if (site is None) == (group is None):
        raise Refused("site", "give either site or group (exactly one)")
    if site is not None:
        name = wire.string(site, "site", required=True)
        if name not in portfolio.sites:
            raise Unknown("site", f"{name!r} is not a site of this portfolio (GET /flexready/v1/sites lists them)")
        return None, (str(name),)
    name = wire.string(group, "group", required=True)
    members = portfolio.groups.get(str(name))
    if not members:
        raise Unknown("group", f"{name!r} is not a group of sites of this portfolio (GET /flexready/v1/sites lists them)")
    return str(name), members


def split(total_kw: float, sites: tuple[str, ...], portfolio: Portfolio) -> dict[str, float]:
    """A group's kW shared among its sites in proportion to their subscribed power."""
    return proportional(total_kw, {s: portfolio.sites[s].subscribed_kva for s in sites})


def check_cap(kw_by_site: Mapping[str, float], portfolio: Portfolio, field_name: str) -> None:
    """Refuse (naming `field_name`) a value above a site's subscribed power."""
    for site, kw in kw_by_site.items():
        cap = portfolio.max_kw(site)
        if kw > cap + 1e-9:
            raise Refused(
                field_name,
                f"{kw:g} kW for site {site} is above its subscribed power ({portfolio.sites[site].subscribed_kva:g} kVA"
                f" = {cap:g} kW)",
            )
