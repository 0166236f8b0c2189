"""An API client's permission filter: the sites it holds and when (its portfolio). Pure.

Every read and write of the aggregator API goes through one: a site the client does not hold is
answered exactly like a site that does not exist (404), so another client's site does not leak.
A client holds a site from `since` until `until` (None: still); a dated switch ends one holding and
starts the next owner's at the same instant.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mapping.flexready.sites import Portfolio


@dataclass(frozen=True)
class Holding:
    """One period during which a client holds a site."""

    client_id: str
    site: str
    since: datetime
    until: datetime | None = None
    role: str = "aggregator"

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether the whole of [start, end) falls inside this holding."""
        return self.since <= start and (self.until is None or end <= self.until)

    def holds_at(self, at: datetime) -> bool:
        """Whether the site belongs to the client at `at`."""
        return self.since <= at and (self.until is None or at < self.until)


@dataclass(frozen=True)
class Scope:
    """What one client may see and address: its holdings, by site."""

    client_id: str
    holdings: Mapping[str, tuple[Holding, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, client_id: str, holdings: Iterable[Holding]) -> "Scope":
        """The scope made of a client's holdings (others' are ignored)."""
        by_site: dict[str, list[Holding]] = {}
        for h in holdings:
            if h.client_id == client_id:
                by_site.setdefault(h.site, []).append(h)
        return cls(client_id, {site: tuple(sorted(hs, key=lambda h: h.since)) for site, hs in by_site.items()})

    def current(self, site: str, at: datetime) -> Holding | None:
        """The holding through which the client has `site` at `at`, else None."""
        return next((h for h in self.holdings.get(site, ()) if h.holds_at(at)), None)

    def sites_at(self, at: datetime) -> frozenset[str]:
        """The sites the client holds at `at`."""
        return frozenset(site for site in self.holdings if self.current(site, at) is not None)

    def covers(self, site: str, start: datetime, end: datetime) -> bool:
        """Whether the client holds `site` over the whole of [start, end)."""
        return any(h.covers(start, end) for h in self.holdings.get(site, ()))

    def held_over(self, site: str, start: datetime, end: datetime) -> bool:
        """Whether the client holds `site` at any moment of [start, end) (its data from then is its own)."""
        return any(h.since < end and (h.until is None or start < h.until) for h in self.holdings.get(site, ()))

    def restrict(self, portfolio: Portfolio, at: datetime) -> Portfolio:
        """The configured sites and groups cut down to the sites held at `at` (groups left empty disappear)."""
        held = self.sites_at(at)
        sites = {name: site for name, site in portfolio.sites.items() if name in held}
        kept = {name: tuple(s for s in members if s in sites) for name, members in portfolio.groups.items()}
        return Portfolio(sites=sites, groups={k: v for k, v in kept.items() if v}, power_factor=portfolio.power_factor)
