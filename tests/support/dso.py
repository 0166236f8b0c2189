"""Helpers for the DSO (OpenADR 3) API tests: clients in the store, tokens, JSON calls."""

from typing import Any

from tests.support import api_clients
from tests.support.api_clients import BearerClient, token

DSO_SCOPES = "read_all read_targets write_programs write_events write_subscriptions"
#: an authenticated OpenADR 3 client of one API version
Dso = BearerClient


async def add_client(vtn: Any, client_id: str, scopes: str = DSO_SCOPES) -> str:
    """Store a DSO client (as `cariflex dso client add` does) and return its secret."""
    return await api_clients.add_client(vtn, client_id, scopes)


async def connect(vtn: Any, client_id: str, version: str = "3.0.1") -> Dso:
    """A new client with a token for `version`."""
    secret = await add_client(vtn, client_id)
    base = f"{vtn.base_url}/openadr3/{version}"
    return Dso(vtn.client.session, base, await token(vtn.client.session, base, client_id, secret))
