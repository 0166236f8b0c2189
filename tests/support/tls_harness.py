"""Our VTN served over TLS (its real server context) on a free loopback port."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from certs.tls import TlsSettings, client_context, server_context
from tests.support.oadr_client import RawClient
from tests.support.vtn_harness import VtnUnderTest
from vtn.app import build
from vtn.config import VtnConfig
from vtn.store.worker import StoreWorker


@asynccontextmanager
async def running_tls_vtn(config: VtnConfig) -> AsyncIterator[VtnUnderTest]:
    """Start the VTN with `config.tls` (as `cariflex vtn` does); `client` is plain aiohttp without a
    certificate: tests make their own clients with `tls_client`."""
    assert config.tls is not None
    process = build(config)
    runner = web.AppRunner(process.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context(config.tls))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    admin_store = StoreWorker(config.db_url, origin="test-admin")
    try:
        async with aiohttp.ClientSession() as session:
            base = f"https://127.0.0.1:{port}"
            yield VtnUnderTest(process=process, base_url=base, client=RawClient(session, base), admin_store=admin_store)
    finally:
        admin_store.close()
        await runner.cleanup()


@asynccontextmanager
async def tls_client(base_url: str, settings: TlsSettings) -> AsyncIterator[RawClient]:
    """A raw 2.0b client presenting the certificate of `settings`."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_context(settings))) as session:
        yield RawClient(session, base_url)
