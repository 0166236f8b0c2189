"""Our VTN in the test's own event loop, on a free loopback port, with helpers to drive it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from mapping.oadr import model as m
from mapping.oadr.vocabulary import default_unit
from tests.support.oadr_client import RawClient
from vtn.admin import events as event_admin
from vtn.app import VtnProcess, build
from vtn.config import AutoReport, ProgramConfig, VtnConfig
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker

PROGRAM = "http://cariflex.mq/programs/test"


def config_for_tests(db_url: str, **changes: object) -> VtnConfig:
    """A VTN configuration for tests (one program, 10 s polls)."""
    config = VtnConfig(
        vtn_id="CARIFLEX-VTN",
        port=0,
        db_url=db_url,
        programs=(ProgramConfig("test", PROGRAM, "Test program"),),
        groups={"north": ("site-north",)},
        resources={"site-res": ("site-res-battery",)},
        auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(minutes=1), timedelta(minutes=5)),),
    )
    return replace(config, **changes)  # type: ignore[arg-type]


@dataclass
class VtnUnderTest:
    """A running VTN plus a raw client pointed at it, and a store handle of its own for admin
    changes (as the CLI makes them: the VTN picks them up from the change feed)."""

    process: VtnProcess
    base_url: str
    client: RawClient
    admin_store: StoreWorker

    async def admin(self, fn: Any, *args: object, **kwargs: object) -> Any:
        """Run an admin function (event_admin, report_admin, repository…) and let the VTN pick it up."""
        result = await self.admin_store.call(fn, *args, **kwargs)
        await self.process.sync.refresh()
        return result

    @property
    def ctx(self):  # noqa: ANN201 - VtnContext
        return self.process.ctx

    async def create_event(
        self,
        *,
        values: tuple[float, ...] = (1.0,),
        interval: timedelta = timedelta(minutes=15),
        start_in: timedelta = timedelta(minutes=10),
        signal: tuple[str, str] = ("SIMPLE", "level"),
        target: m.Target | None = None,
        start_at: datetime | None = None,
        **fields: object,
    ) -> m.Event:
        """Create an event as the CLI would (through the store), then let the VTN pick it up; it starts at
        `start_at`, else `start_in` from now."""
        now = self.ctx.now()
        event = event_admin.draft_uniform_event(
            signal[0],
            signal[1],
            list(values),
            interval,
            default_unit(*signal),
            market_context=PROGRAM,
            dtstart=start_at or now + start_in,
            now=now,
            near_window=self.ctx.config.near_window,
            target=target,
            **fields,  # type: ignore[arg-type]
        )
        await self.admin(event_admin.create_event, event, "test", now)
        return event

    async def modify_event(self, event_id: str, reason: str = "modified", **changes: object) -> m.Event:
        """Modify an event through the store and let the VTN pick it up."""
        return await self.admin(
            event_admin.modify_event, event_id, self.ctx.now(), self.ctx.config.near_window, reason, actor="test", **changes
        )

    async def cancel_event(self, event_id: str) -> m.Event:
        """Cancel an event through the store and let the VTN pick it up."""
        return await self.admin(event_admin.cancel_event, event_id, self.ctx.now(), actor="test")

    async def queue(self, ven_id: str, kind: str) -> None:
        """Queue a VTN-initiated message (as `cariflex vens …` does)."""
        ven = self.ctx.live.vens[ven_id]
        await self.admin(repo.enqueue, ven_id, kind, {"registration_id": ven.registration_id}, self.ctx.now())


@asynccontextmanager
async def running_vtn(config: VtnConfig) -> AsyncIterator[VtnUnderTest]:
    """Start a VTN on 127.0.0.1:<free port>; stop it (and its scheduler) afterwards."""
    process = build(config)
    server = TestServer(process.app, host="127.0.0.1", port=0)
    await server.start_server()
    admin_store = StoreWorker(config.db_url, origin="test-admin")
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{server.port}"
            yield VtnUnderTest(process=process, base_url=base, client=RawClient(session, base), admin_store=admin_store)
    finally:
        admin_store.close()
        await server.close()
