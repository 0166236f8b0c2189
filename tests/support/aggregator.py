"""Helpers for the aggregator API tests: a VTN configuration with sites, clients, tokens, JSON calls."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tests.support import api_clients
from tests.support.api_clients import BearerClient, token
from tests.support.vtn_harness import config_for_tests
from vtn.aggregator import portfolio
from vtn.aggregator.settings import AggregatorConfig, SiteSetting
from vtn.config import VtnConfig
from vtn.site_registry import contracted_kw_by_ven

BASE = "/flexready/v1"
SITES = {"site-a": SiteSetting(36.0), "site-b": SiteSetting(12.0), "site-c": SiteSetting(9.0, "co2")}


def aggregator_config(db_url: str, sites: dict[str, SiteSetting] | None = None, **changes: object) -> VtnConfig:
    """The tests' VTN configuration with the aggregator API on program `test` and three sites (group `ab`),
    not those of the sites file."""
    config = config_for_tests(db_url, groups={"north": ("site-north",), "ab": ("site-a", "site-b")}, **changes)
    aggregator = AggregatorConfig(program_id="test", use_sites_file=False, sites=sites or SITES, accept_past_windows=True)
    return replace(config, aggregator=aggregator)


#: an authenticated aggregator
Aggregator = BearerClient


async def add_client(vtn: Any, client_id: str, scopes: str = "flexready") -> str:
    """Store an aggregator client (as `cariflex aggregator client add` does) and return its secret."""
    return await api_clients.add_client(vtn, client_id, scopes)


#: holdings given by `hold` start here: before any window a test orders (back-dated ones included)
HELD_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def configured_sites(vtn: Any) -> list[str]:
    """Every site the running VTN's aggregator API addresses."""
    config = vtn.ctx.config
    groups = {**config.groups, **config.dso.zones}
    return sorted(config.aggregator.portfolio(groups, contracted_kw_by_ven(config.ui.sites_file)).sites)


async def hold(vtn: Any, client_id: str, sites: Iterable[str], since: datetime = HELD_SINCE) -> None:
    """Put `sites` in the client's portfolio from `since`, as `cariflex aggregator portfolio add` does."""
    for site in sites:
        await vtn.admin(portfolio.assign, client_id, site, since, "cli:tests", vtn.ctx.now(), vtn.ctx.config.near_window)


async def connect(vtn: Any, client_id: str, sites: Iterable[str] | None = None, scopes: str = "flexready") -> Aggregator:
    """A new aggregator client (a supplier with `scopes="supplier"`) with a token, holding `sites` (None: every
    configured site; a site another client of the same role held is switched to this one)."""
    secret = await add_client(vtn, client_id, scopes)
    await hold(vtn, client_id, configured_sites(vtn) if sites is None else sites)
    base = vtn.base_url + BASE
    return Aggregator(vtn.client.session, base, await token(vtn.client.session, base, client_id, secret))
