"""Our VTN served as `cariflex vtn` serves it (TLS with its real server context, its timeouts) on a free loopback port."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import aiohttp

from certs.tls import TlsSettings, client_context
from tests.support.oadr_client import RawClient
from tests.support.vtn_harness import VtnUnderTest
from vtn.app import build, start_site
from vtn.config import VtnConfig
from vtn.store.worker import StoreWorker


@asynccontextmanager
async def served_vtn(config: VtnConfig) -> AsyncIterator[VtnUnderTest]:
    """Start the VTN exactly as `cariflex vtn` listens (TLS when `config.tls`, its timeouts) on a free
    loopback port; `client` is plain aiohttp without a certificate: tests make their own with `tls_client`."""
    process = build(config)
    runner, port = await start_site(process, replace(config, host="127.0.0.1", port=0))
    admin_store = StoreWorker(config.db_url, origin="test-admin")
    try:
        async with aiohttp.ClientSession() as session:
            base = f"{'https' if config.tls else 'http'}://127.0.0.1:{port}"
            yield VtnUnderTest(process=process, base_url=base, client=RawClient(session, base), admin_store=admin_store)
    finally:
        admin_store.close()
        await runner.cleanup()


@asynccontextmanager
async def tls_client(base_url: str, settings: TlsSettings) -> AsyncIterator[RawClient]:
    """A raw 2.0b client presenting the certificate of `settings`."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_context(settings))) as session:
        yield RawClient(session, base_url)
