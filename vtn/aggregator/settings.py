"""The `[aggregator]` section of the VTN configuration: the program its events belong to, the sites
(subscribed power, objective), the power factor that turns kVA into kW, the token lifetime."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from mapping.flexready.sites import OBJECTIVES, Portfolio, Site
from mapping.settings import ConfigError, Table


@dataclass(frozen=True)
class AggregatorConfig:
    """Aggregator API settings; without a program the API is not mounted."""

    program_id: str | None = None
    power_factor: float = 1.0
    token_lifetime: timedelta = timedelta(hours=1)
    sites: Mapping[str, Site] = field(default_factory=dict)
    #: accept orders and series whose window is already over (they become completed events, and the
    #: VENs still report their achieved curtailment); off in production, on in tests
    accept_past_windows: bool = False

    def portfolio(self, groups: Mapping[str, tuple[str, ...]]) -> Portfolio:
        """The sites and the configured groups (restricted to the aggregator's sites; empty ones left out)."""
        kept = {name: tuple(s for s in members if s in self.sites) for name, members in groups.items()}
        return Portfolio(sites=self.sites, groups={k: v for k, v in kept.items() if v}, power_factor=self.power_factor)


def _number(table: Table, key: str, default: float, low: float, high: float) -> float:
    value = table.data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{table.path}.{key}: expected a number from {low:g} to {high:g}")
    return float(value)


def parse_aggregator(table: Table) -> AggregatorConfig:
    """Validate `[aggregator]` (absent: the API is off)."""
    table.reject_unknown({"program", "power_factor", "token_lifetime", "sites", "accept_past_windows"})
    if not table.data:
        return AggregatorConfig()
    lifetime = table.duration("token_lifetime", "PT1H")
    if lifetime <= timedelta(0):
        raise ConfigError(f"{table.path}.token_lifetime: must be positive")
    sites_table = table.table("sites")
    sites = {}
    for name in sites_table.data:
        site = sites_table.table(name)
        site.reject_unknown({"subscribed_kva", "objective"})
        if "subscribed_kva" not in site.data:
            raise ConfigError(f"{site.path}.subscribed_kva: required (the site's contract, which caps every limit)")
        objective = site.string("objective", "cost")
        if objective not in OBJECTIVES:
            raise ConfigError(f"{site.path}.objective: expected one of {', '.join(OBJECTIVES)}")
        sites[name] = Site(name, _number(site, "subscribed_kva", 0, 0.1, 100_000), objective)
    return AggregatorConfig(
        program_id=table.string("program"),
        power_factor=_number(table, "power_factor", 1.0, 0.1, 1.0),
        token_lifetime=lifetime,
        sites=sites,
        accept_past_windows=table.boolean("accept_past_windows", False),
    )
