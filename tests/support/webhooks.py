"""A webhook receiver for tests: a real local HTTP server on an ephemeral port that keeps every POST's
raw body and signature header (answering 503 to the first `refuse` ones, to exercise retries)."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from mapping.flexready.notices import SIGNATURE_HEADER
from tests.support.local_http import serving


class Receiver:
    """What the callback URL received."""

    def __init__(self, refuse: int = 0) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.refuse = refuse
        self.refused = 0

    async def handle(self, request: web.Request) -> web.Response:
        """The callback: 503 while refusing, else keep the POST and answer 204."""
        if self.refused < self.refuse:
            self.refused += 1
            return web.Response(status=503)
        self.received.append((request.headers.get(SIGNATURE_HEADER, ""), await request.read()))
        return web.Response(status=204)

    def types(self, order_id: str) -> list[tuple[str, str | None]]:
        """(type, site) of the notifications received about one order, in arrival order."""
        bodies = [json.loads(body) for _, body in self.received]
        return [(b["type"], b.get("site")) for b in bodies if b["client_order_id"] == order_id]


@asynccontextmanager
async def receiving(refuse: int = 0) -> AsyncIterator[tuple[Receiver, str]]:
    """(the receiver, its callback URL on 127.0.0.1 and an ephemeral port) while the block runs."""
    found = Receiver(refuse)
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    async with serving(app) as port:
        yield found, f"http://127.0.0.1:{port}/hook"
