"""The pusher's HTTP client side of certificate pinning: a push goes only to the endpoint presenting the
certificate its VEN registered with (checked once connected, before anything is written)."""

from contextvars import ContextVar

import aiohttp
from aiohttp.connector import Connection

from certs.fingerprint import fingerprint_of_der
from certs.tls import peer_der

#: the certificate fingerprint the VEN being pushed to registered with (set per push task)
PIN: ContextVar[str | None] = ContextVar("cariflex_push_pin", default=None)


class PinMismatch(aiohttp.ClientError):
    """The endpoint presented another certificate than the one its VEN registered with."""


def _fingerprint(connection: Connection) -> str | None:
    transport = connection.transport
    der = peer_der(transport.get_extra_info("ssl_object")) if transport is not None else None
    return fingerprint_of_der(der) if der else None


class PinnedRequest(aiohttp.ClientRequest):
    """Checks the server's certificate against the VEN's registered fingerprint once connected and
    before anything is written, so a message never reaches an endpoint that is not the VEN's."""

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        expected = PIN.get()
        if expected is not None and (got := _fingerprint(conn)) != expected:
            raise PinMismatch(f"the endpoint presented certificate {got}, the VEN registered with {expected}")
        return await super().send(conn)


class PinnedResponse(aiohttp.ClientResponse):
    """A response that remembers the certificate the server presented (read when the connection is
    handed over: an empty answer releases it before the caller could look)."""

    peer_fingerprint: str | None = None

    async def start(self, connection: Connection) -> "aiohttp.ClientResponse":
        self.peer_fingerprint = _fingerprint(connection)
        return await super().start(connection)
