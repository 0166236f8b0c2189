"""Helpers for the DSO (OpenADR 3) API tests: clients in the store, tokens, JSON calls."""

import base64
from dataclasses import dataclass
from typing import Any

import aiohttp

from vtn.auth.secrets import hash_secret, new_secret
from vtn.store import dso_repository as dso_repo


async def add_client(
    vtn: Any, client_id: str, scopes: str = "read_all read_targets write_programs write_events write_subscriptions"
) -> str:
    """Store a DSO client (as `cariflex dso client add` does) and return its secret."""
    secret = new_secret()
    added = await vtn.admin(dso_repo.add_client, client_id, hash_secret(secret), frozenset(scopes.split()), vtn.ctx.now())
    assert added
    return secret


@dataclass
class Dso:
    """An authenticated OpenADR 3 client of one API version."""

    session: aiohttp.ClientSession
    base: str
    token: str

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        """(status, JSON body) of a request."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.request(method, self.base + path, json=body, params=params or None, headers=headers) as response:
            return response.status, await response.json(content_type=None)


async def token(session: aiohttp.ClientSession, base: str, client_id: str, secret: str, scope: str | None = None) -> str:
    """An access token from auth/token (credentials in HTTP Basic)."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    async with session.post(f"{base}/auth/token", data=form, headers={"Authorization": f"Basic {basic}"}) as response:
        body = await response.json()
        assert response.status == 200, body
        return body["access_token"]


async def connect(vtn: Any, client_id: str, version: str = "3.0.1") -> Dso:
    """A new client with a token for `version`."""
    secret = await add_client(vtn, client_id)
    base = f"{vtn.base_url}/openadr3/{version}"
    return Dso(vtn.client.session, base, await token(vtn.client.session, base, client_id, secret))
