"""Helpers for the aggregator API tests: a VTN configuration with sites, clients, tokens, JSON calls."""

from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from tests.support.dso import token
from tests.support.vtn_harness import config_for_tests
from vtn.aggregator.settings import AggregatorConfig, SiteSetting
from vtn.auth.secrets import hash_secret, new_secret
from vtn.config import VtnConfig
from vtn.store import dso_repository as dso_repo

BASE = "/flexready/v1"
SITES = {"site-a": SiteSetting(36.0), "site-b": SiteSetting(12.0), "site-c": SiteSetting(9.0, "co2")}


def aggregator_config(db_url: str, sites: dict[str, SiteSetting] | None = None, **changes: object) -> VtnConfig:
    """The tests' VTN configuration with the aggregator API on program `test` and three sites (group `ab`),
    not those of the sites file."""
    config = config_for_tests(db_url, groups={"north": ("site-north",), "ab": ("site-a", "site-b")}, **changes)
    aggregator = AggregatorConfig(program_id="test", use_sites_file=False, sites=sites or SITES, accept_past_windows=True)
    return replace(config, aggregator=aggregator)


async def add_client(vtn: Any, client_id: str, scopes: str = "flexready") -> str:
    """Store an API client (as `cariflex aggregator client add` does) and return its secret."""
    secret = new_secret()
    added = await vtn.admin(dso_repo.add_client, client_id, hash_secret(secret), frozenset(scopes.split()), vtn.ctx.now())
    assert added
    return secret


@dataclass
class Aggregator:
    """An authenticated aggregator."""

    session: aiohttp.ClientSession
    base: str
    token: str

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        """(status, JSON body) of a request."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.request(method, self.base + path, json=body, params=params or None, headers=headers) as response:
            return response.status, await response.json(content_type=None)


async def connect(vtn: Any, client_id: str) -> Aggregator:
    """A new aggregator client with a token."""
    secret = await add_client(vtn, client_id)
    base = vtn.base_url + BASE
    return Aggregator(vtn.client.session, base, await token(vtn.client.session, base, client_id, secret))
