"""The `[aggregator]` section of the VTN configuration: the program its events belong to, the sites
(subscribed power, objective), the power factor that turns kVA into kW, the token lifetime.

The sites and their subscribed power come from the platform's sites file (`[ui] sites_file`, the
one the VENs read: `contracted_kva`) unless `use_sites_file = false`; `[aggregator.sites]` adds
sites or overrides a site's subscribed power or objective.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from mapping.flexready.sites import OBJECTIVES, Portfolio, Site
from mapping.settings import ConfigError, Table


@dataclass(frozen=True)
class SiteSetting:
    """One `[aggregator.sites]` entry: subscribed power (None: the sites file's) and objective."""

    subscribed_kva: float | None = None
    objective: str = "cost"


@dataclass(frozen=True)
class AggregatorConfig:
    """Aggregator API settings; without a program the API is not mounted."""

    program_id: str | None = None
    power_factor: float = 1.0
    token_lifetime: timedelta = timedelta(hours=1)
    use_sites_file: bool = True
    sites: Mapping[str, SiteSetting] = field(default_factory=dict)
    #: accept orders and series whose window is already over (they become completed events, and the
    #: VENs still report their achieved curtailment); off in production, on in tests
    accept_past_windows: bool = False
    #: the hosts webhook callback URLs may point at (none: no subscription is accepted)
    callback_hosts: frozenset[str] = frozenset()
    #: how often the notifier looks for changes to notify
    notify_interval: timedelta = timedelta(seconds=5)

    def portfolio(self, groups: Mapping[str, tuple[str, ...]], contracts: Mapping[str, float]) -> Portfolio:
        """The sites (from `contracts`, oadrVenName → kVA of the sites file, and `[aggregator.sites]`) and
        the configured groups restricted to them (empty ones left out). ConfigError for a site without kVA."""
        sites = {name: Site(name, kva) for name, kva in contracts.items()} if self.use_sites_file else {}
        for name, setting in self.sites.items():
            kva = setting.subscribed_kva if setting.subscribed_kva is not None else contracts.get(name)
            if kva is None or (not self.use_sites_file and setting.subscribed_kva is None):
                raise ConfigError(f"aggregator.sites.{name}.subscribed_kva: required (the site is not in the sites file)")
            sites[name] = Site(name, kva, setting.objective)
        kept = {name: tuple(s for s in members if s in sites) for name, members in groups.items()}
        return Portfolio(sites=sites, groups={k: v for k, v in kept.items() if v}, power_factor=self.power_factor)


def _number(table: Table, key: str, default: float, low: float, high: float) -> float:
    value = table.data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{table.path}.{key}: expected a number from {low:g} to {high:g}")
    return float(value)


def parse_aggregator(table: Table) -> AggregatorConfig:
    """Validate `[aggregator]` (absent: the API is off)."""
    table.reject_unknown(
        {
            "program",
            "power_factor",
            "token_lifetime",
            "use_sites_file",
            "sites",
            "accept_past_windows",
            "callback_hosts",
            "notify_interval",
        }
    )
    if not table.data:
        return AggregatorConfig()
    lifetime = table.duration("token_lifetime", "PT1H")
    if lifetime <= timedelta(0):
        raise ConfigError(f"{table.path}.token_lifetime: must be positive")
    interval = table.duration("notify_interval", "PT5S")
    if not timedelta(milliseconds=100) <= interval <= timedelta(hours=1):
        raise ConfigError(f"{table.path}.notify_interval: expected from PT0.1S to PT1H")
    hosts = table.data.get("callback_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise ConfigError(f"{table.path}.callback_hosts: expected a list of host names")
    sites_table = table.table("sites")
    sites = {}
    for name in sites_table.data:
        site = sites_table.table(name)
        site.reject_unknown({"subscribed_kva", "objective"})
        objective = site.string("objective", "cost")
        if objective not in OBJECTIVES:
            raise ConfigError(f"{site.path}.objective: expected one of {', '.join(OBJECTIVES)}")
        kva = _number(site, "subscribed_kva", 0, 0.1, 100_000) if "subscribed_kva" in site.data else None
        sites[name] = SiteSetting(kva, objective)
    return AggregatorConfig(
        program_id=table.string("program"),
        power_factor=_number(table, "power_factor", 1.0, 0.1, 1.0),
        token_lifetime=lifetime,
        use_sites_file=table.boolean("use_sites_file", True),
        sites=sites,
        accept_past_windows=table.boolean("accept_past_windows", False),
        callback_hosts=frozenset(hosts),
        notify_interval=interval,
    )
