"""Helpers for the aggregator API tests: a VTN configuration with sites, clients, tokens, JSON calls."""

from dataclasses import replace
from typing import Any

from tests.support import api_clients
from tests.support.api_clients import BearerClient, token
from tests.support.vtn_harness import config_for_tests
from vtn.aggregator.settings import AggregatorConfig, SiteSetting
from vtn.config import VtnConfig

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


async def connect(vtn: Any, client_id: str) -> Aggregator:
    """A new aggregator client with a token."""
    secret = await add_client(vtn, client_id)
    base = vtn.base_url + BASE
    return Aggregator(vtn.client.session, base, await token(vtn.client.session, base, client_id, secret))
