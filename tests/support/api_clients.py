"""Helpers shared by the tests of the JSON APIs with OAuth2 clients (DSO and aggregator): clients in
the store, tokens, authenticated JSON calls, and a real `cariflex vtn` process with a client."""

import base64
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.vtn_process import wait_base_url
from vtn.auth.secrets import hash_secret, new_secret
from vtn.store import dso_repository as dso_repo

BIN = Path(sys.executable).parent


async def add_client(vtn: Any, client_id: str, scopes: str) -> str:
    """Store an API client (as `cariflex dso|aggregator client add` does) and return its secret."""
    secret = new_secret()
    added = await vtn.admin(dso_repo.add_client, client_id, hash_secret(secret), frozenset(scopes.split()), vtn.ctx.now())
    assert added
    return secret


@dataclass
class BearerClient:
    """An authenticated client of one JSON API."""

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


def blocking_token(token_url: str, client_id: str, secret: str) -> str:
    """The same, outside an event loop (fixtures of subprocess-driven tests)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"}
    request = urllib.request.Request(token_url, data=b"grant_type=client_credentials", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]


@contextmanager
def vtn_process_with_client(
    config: Path, kind: str, client_id: str, then: Sequence[Sequence[str]] = ()
) -> Iterator[tuple[str, str]]:
    """(base URL, client secret) of a real `cariflex vtn --config CONFIG` with a `kind` ("dso" or
    "aggregator") client added first, then the `cariflex` commands `then` run (each given --config); the
    process is stopped afterwards."""
    added = subprocess.run(
        [BIN / "cariflex", kind, "client", "add", client_id, "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = re.search(r"client_secret=(\S+)", added.stdout)
    assert found, added.stdout
    for command in then:
        subprocess.run([BIN / "cariflex", *command, "--config", str(config)], capture_output=True, check=True, timeout=120)
    vtn = subprocess.Popen(
        [BIN / "cariflex", "vtn", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        yield wait_base_url(vtn), found.group(1)
    finally:
        vtn.terminate()
        vtn.wait(timeout=30)
